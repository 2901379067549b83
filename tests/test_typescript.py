"""`sidegears types`: TypeScript declarations from rpc.discover, compiled by the real tsc / vue-tsc.

The app is client/test/types/kernel-api/app.py; kernel-api.d.ts next to it is
its output, and the TypeScript and .vue files there use it as documented
(they are compiled here, with a misuse file whose errors are checked one by one).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal, Optional, Union

import pytest

from sidegears.cli import main
from sidegears.contract import schema_of
from sidegears.typescript import declarations, ts_type

REPO = Path(__file__).resolve().parent.parent
CLIENT = REPO / "client"
EXAMPLE = CLIENT / "test" / "types" / "kernel-api"
APP = EXAMPLE / "app.py"
VUE_TSC = CLIENT / "node_modules" / ".bin" / "vue-tsc"


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Item:
    name: str
    price: float


# Python type -> its TypeScript, through the schema pydantic really writes.
PYDANTIC_CASES = [
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (bool, "boolean"),
    (None, "null"),
    (Union[int, str], "number | string"),
    (Optional[int], "number | null"),
    (list[int], "number[]"),
    (list[Union[int, str]], "Array<number | string>"),
    (dict[str, int], "{ [key: string]: number }"),
    (dict, "{ [key: string]: unknown }"),
    (tuple[int, str], "[number, string]"),
    (tuple[int, ...], "number[]"),
    (Literal["a", "b"], '"a" | "b"'),
    (Literal[1], "1"),
    (Colour, '"red" | "green"'),  # given whole: inline (declarations() names it, see below)
    (list[Colour], "Colour[]"),  # inside another type: a $ref
    (Item, "{ name: string; price: number }"),
    (Optional[list[Item]], "Item[] | null"),
    (dict[str, list[Item]], "{ [key: string]: Item[] }"),
]


@pytest.mark.parametrize(("hint", "expected"), PYDANTIC_CASES, ids=[str(case[0]) for case in PYDANTIC_CASES])
def test_pydantic_schemas_become_typescript(hint, expected) -> None:
    schemas: dict = {}
    assert ts_type(schema_of(hint, schemas), schemas) == expected


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({}, "unknown"),
        (False, "never"),
        ({"not": {"type": "string"}}, "unknown"),  # not covered: claims nothing
        ({"type": ["string", "null"]}, "string | null"),
        ({"anyOf": [{"type": "string"}, {}]}, "unknown"),  # unknown absorbs the union
        ({"const": "on"}, '"on"'),
        ({"enum": ["a", 1, None, True]}, '"a" | 1 | null | true'),
        ({"$ref": "#/components/schemas/Missing"}, "unknown"),
        ({"$ref": "#/$defs/Elsewhere"}, "unknown"),
        ({"allOf": [{"$ref": "#/components/schemas/A"}]}, "A"),
        ({"allOf": [{"$ref": "#/components/schemas/A"}, {"anyOf": [{"type": "string"}, {"type": "null"}]}]},
         "A & (string | null)"),
        ({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 1, "maxItems": 2},
         "[number, string?]"),
        ({"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "string"}}, "[number, ...string[]]"),
        ({"type": "array", "items": [{"type": "integer"}], "additionalItems": False}, "[number]"),  # draft 7 tuples
        ({"type": "object", "properties": {"a b": {"type": "integer"}}, "required": ["a b"]}, '{ "a b": number }'),
        ({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
         "{ a?: number } & { [key: string]: string }"),
        ({"type": "object", "additionalProperties": False}, "{}"),
    ],
)
def test_json_schema_forms_become_typescript(schema, expected) -> None:
    assert ts_type(schema, {"A": {"type": "integer"}}) == expected


def test_names_of_schemas_and_params_are_typescript_names() -> None:
    document = {
        "methods": [
            {"name": "my-method", "params": [{"name": "default", "required": True, "schema": {"type": "integer"}}],
             "result": {"name": "result", "schema": {"$ref": "#/components/schemas/Page[int]"}}},
            {"name": "files", "params": [], "result": {"name": "result", "schema": {"$ref": "#/components/schemas/KernelApi"}}},
            {"name": "files.list", "params": [], "result": {"name": "result", "schema": {"type": "null"}}},
            {"name": "then.x", "params": [], "result": {"name": "result", "schema": {}}},
        ],
        "components": {"schemas": {"Page[int]": {"type": "integer"}, "KernelApi": {"type": "string"}}},
    }  # fmt: skip
    text = declarations(document)
    assert '"my-method"(default_: number): Page_int_;' in text  # a reserved word is no parameter name
    assert "export type Page_int_ = number;" in text
    assert "export type KernelApi2 = string;" in text and "(): KernelApi2;" in text
    # files and files.list: one object, callable, with a list member.
    assert "  files: {\n    (): KernelApi2;\n    list(): null;\n  };" in text
    # The requester proxy does not call `then`: left to sendRequest.
    assert "Not here (call them with sendRequest, see KernelMethods): then.x" in text
    assert '"then.x": { params: [] | Record<string, never>; result: unknown };' not in text
    assert '"then.x": { params: []; result: unknown };' in text


def test_generated_declarations_are_current(tmp_path: Path, capsys) -> None:
    out = tmp_path / "kernel-api.d.ts"
    assert main(["types", str(APP), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    text = out.read_text()
    assert text == (EXAMPLE / "kernel-api.d.ts").read_text(), (
        "client/test/types/kernel-api/kernel-api.d.ts is not what `sidegears types` writes now: "
        "cd client/test/types/kernel-api && sidegears types app.py -o kernel-api.d.ts"
    )
    # The by-name method is not on the requester, but in KernelMethods with its named params.
    assert '"order.find": { params: { name: string; limit?: number }; result: Order[] };' in text
    assert "  multiply(a: number, b: number): number;" in text
    assert '"progress": { done: number; total: number };' in text


# The misuse file: each line that must fail, with the error tsc must give it.
MISUSE = """\
import { createClient } from 'sidegears';
import type { KernelApi, KernelNotifications } from './kernel-api';
import type * as Edge from './edge';
const kernel = createClient<KernelApi, KernelNotifications>();
export async function misuse(edge: Edge.KernelApi): Promise<void> {
  await kernel.requester.multiply('6', 7);
  const text: string = await kernel.requester.multiply(6, 7);
  await kernel.requester.divide(6, 7);
  await kernel.requester.files.list();
  await kernel.requester.order.find('ink');
  kernel.onNotify((method, params) => method === 'progress' && params.percent);
  const total: number = edge.files.list();
  console.log(text, total, edge['my-method'](1));
}
"""
EXPECTED_ERRORS = {
    (6, "TS2345"),  # Argument of type 'string' is not assignable to parameter of type 'number'
    (7, "TS2322"),  # Type 'number' is not assignable to type 'string'
    (8, "TS2339"),  # Property 'divide' does not exist
    (9, "TS2554"),  # Expected 1-2 arguments, but got 0
    (10, "TS2339"),  # order.find is by name only: not on the requester
    (11, "TS2339"),  # Property 'percent' does not exist on the progress params
    (12, "TS2322"),  # files.list returns null
}


def test_declarations_compile_with_strict_and_catch_misuse(tmp_path: Path) -> None:
    if not VUE_TSC.exists():
        pytest.fail("the client's devDependencies are missing: cd client && npm ci")
    assert main(["types", str(APP), "-o", str(tmp_path / "kernel-api.d.ts")]) == 0
    edge = {
        "methods": [
            {"name": "files", "params": [], "result": {"name": "r", "schema": {"type": "string"}}},
            {"name": "files.list", "params": [], "result": {"name": "r", "schema": {"type": "null"}}},
            {"name": "my-method", "params": [{"name": "default", "required": True, "schema": {"type": "integer"}}],
             "paramStructure": "by-position", "result": {"name": "r", "schema": {"$ref": "#/components/schemas/KernelApi"}}},
        ],
        "components": {"schemas": {"KernelApi": {"type": "object", "properties": {"a": {"type": "string"}}}}},
    }  # fmt: skip
    (tmp_path / "edge.d.ts").write_text(declarations(edge))
    (tmp_path / "misuse.ts").write_text(MISUSE)
    dist = CLIENT / "dist" / "types"
    config = {
        # The committed example (client.ts, main.ts, Kernel.vue, Options.vue: correct use, which must
        # compile) and the misuse file, in one vue-tsc run: one program, one start-up.
        "extends": str(EXAMPLE / "tsconfig.json"),
        "compilerOptions": {
            "paths": {"sidegears": [str(dist / "index.d.ts")], "sidegears/vue": [str(dist / "vue-plugin.d.ts")]}
        },
        "include": [str(EXAMPLE / "*.ts"), str(EXAMPLE / "*.vue"), "*.ts"],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    started = time.monotonic()
    run = subprocess.run(
        [str(VUE_TSC), "-p", str(tmp_path / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    errors = re.findall(r"^(.+?)\((\d+),\d+\): error (TS\d+)", run.stdout, re.MULTILINE)
    assert errors, f"vue-tsc found no errors at all:\n{run.stdout}{run.stderr}"
    assert {(Path(file).name, int(line), code) for file, line, code in errors} == {
        ("misuse.ts", line, code) for line, code in EXPECTED_ERRORS
    }, run.stdout
    assert len(errors) == len(EXPECTED_ERRORS), run.stdout
    assert time.monotonic() - started < 60


def _start_app() -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    app = subprocess.Popen(
        [sys.executable, str(APP), "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert app.stdout is not None
    for line in app.stdout:  # serve() prints the addresses once it listens
        if "websocket:" in line:
            return app, line.split("websocket:")[1].strip()
    app.kill()
    raise AssertionError("the app printed no websocket address")


def test_url_asks_a_running_kernel(tmp_path: Path, capsys) -> None:
    app, url = _start_app()
    try:
        assert "token=" in url
        assert main(["types", "--url", url]) == 0
        from_kernel = capsys.readouterr().out
        wrong = re.sub(r"token=[^&]*", "token=not-the-token-of-this-app", url)
        assert main(["types", "--url", wrong, "-o", str(tmp_path / "never.d.ts")]) == 1
        refused = capsys.readouterr().err
    finally:
        app.terminate()
        app.wait(10)
    assert "refused the connection (403 Forbidden: " in refused and "token" in refused
    assert "not-the-token-of-this-app" not in refused
    assert not (tmp_path / "never.d.ts").exists()
    from_file = (EXAMPLE / "kernel-api.d.ts").read_text()
    # The same declarations, but for the header's source, which names the URL without its token.
    source = re.compile(r"^// Generated by `sidegears types` from (.*): do not edit", re.MULTILINE)
    assert source.search(from_kernel).group(1) == re.sub(r"token=[^&]*", "token=...", url)
    assert source.sub("", from_kernel) == source.sub("", from_file)


def test_an_app_that_starts_no_kernel_is_named(tmp_path: Path, capsys) -> None:
    app = tmp_path / "app.py"
    app.write_text("print('imported')\n")
    assert main(["types", str(app)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # what the app prints goes to stderr: stdout is for the declarations
    assert "imported" in captured.err and "started no kernel" in captured.err
    assert main(["types"]) == 2
    assert "give the app's Python file or --url" in capsys.readouterr().err
    assert main(["types", "--url", "ws://127.0.0.1:9/"]) == 1  # port 9 (discard): nothing listens
    assert "cannot connect to ws://127.0.0.1:9/" in capsys.readouterr().err
