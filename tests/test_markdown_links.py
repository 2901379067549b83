"""Every link in the repository's Markdown files resolves inside the repository.

A relative link must name a file or folder that exists, inside the
repository (never `../shared` or anything else above it), and its
`#anchor`, in a Markdown file, a heading of that file (GitHub's slugs).
Links to http(s) and mailto addresses are not followed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title"), ![alt](target), with one level of brackets in the text (e.g. [`x[0]`](y)).
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+[\"'(][^)]*)?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*\b(?:href|src)=[\"']([^\"']+)[\"']", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"<a\b[^>]*\b(?:id|name)=[\"']([^\"']+)[\"']", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)


def markdown_files(root: Path = ROOT) -> list[Path]:
    """The repository's Markdown files: tracked ones and new ones not ignored, none under node_modules."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.md"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = sorted(set(out.splitlines()))
    return [root / name for name in names if "node_modules" not in Path(name).parts and (root / name).is_file()]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1, with inline code spans blanked out."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and set(line.strip()) <= {fence[0]}:
                fence = None
        else:
            lines.append((number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lower case, punctuation but `-` and `_` dropped, spaces as `-`."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors a Markdown file offers: its headings' slugs (repeats get -1, -2...) and explicit <a id/name>."""
    text = path.read_text(encoding="utf-8")
    found: set[str] = set()
    seen: dict[str, int] = {}
    fence: str | None = None
    for line in text.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            continue
        if fence is not None:
            if line.strip() and set(line.strip()) <= {fence[0]} and len(line.strip()) >= len(fence):
                fence = None
            continue
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(HTML_ANCHOR.findall(line))
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) for every link of a Markdown file outside code."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        found += [(number, target) for target in INLINE_LINK.findall(line)]
        found += [(number, target) for target in HTML_LINK.findall(line)]
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            found.append((number, definition.group(1)))
    return found


def broken_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """A line per link of ``files`` that does not resolve inside ``root``: "file:line: target: why"."""
    root = root.resolve()
    problems: list[str] = []
    for path in files:
        where = path.relative_to(root)
        for number, target in links(path):
            def problem(why: str) -> None:
                problems.append(f"{where}:{number}: {target}: {why}")

            if not target:
                problem("empty link")
                continue
            if EXTERNAL.match(target):
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                problem("a scheme other than http(s) or mailto")
                continue
            file_part, _, anchor = target.partition("#")
            file_part = unquote(file_part.split("?", 1)[0])
            if file_part.startswith("/"):
                problem("an absolute path: use a path relative to this file")
                continue
            resolved = (path.parent / file_part).resolve() if file_part else path.resolve()
            if resolved != root and root not in resolved.parents:
                problem("points outside the repository")
                continue
            if not resolved.exists():
                problem("no such file or folder")
                continue
            if "node_modules" in resolved.relative_to(root).parts:
                problem("points into node_modules, which is not in the repository")
                continue
            if anchor:
                if resolved.suffix.lower() != ".md" or not resolved.is_file():
                    problem("an #anchor into a file that is not Markdown")
                elif unquote(anchor) not in anchors(resolved):
                    problem(f"no heading with the anchor #{anchor} in {resolved.relative_to(root)}")
    return problems


def test_every_markdown_link_resolves_inside_the_repository() -> None:
    """Each relative link of each tracked *.md names an existing file or folder of the repository, and each #anchor a heading."""
    files = markdown_files()
    assert ROOT / "README.md" in files and ROOT / "CONTRIBUTING.md" in files
    assert broken_links(files) == []


def test_the_checker_finds_each_kind_of_broken_link(tmp_path: Path) -> None:
    """On a made-up repository, every kind of bad link is reported once, and the good ones are not."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## The `launch(url=None)` call\n\n## Notes\n\n## Notes\n\n<a id=\"custom\"></a>\n"
    )
    (tmp_path / "code.py").write_text("")
    (tmp_path / "README.md").write_text(
        "# Top\n\n"
        "[good file](docs/guide.md) [good dir](docs) [good anchor](docs/guide.md#the-launchurlnone-call)\n"
        "[repeat](docs/guide.md#notes-1) [html anchor](docs/guide.md#custom) [self](#top) [web](https://example.org/x)\n"
        "[missing](docs/nothing.md)\n"
        "[bad anchor](docs/guide.md#nowhere)\n"
        "[outside](../shared/notes.md)\n"
        "[self bad](#bottom)\n"
        "[absolute](/docs/guide.md)\n"
        "[anchor in code](code.py#L1)\n"
        "`[in code](nowhere.md)`\n"
        "```\n[in a fence](nowhere.md)\n```\n"
        "[ref]: docs/gone.md\n"
    )
    problems = broken_links([tmp_path / "README.md"], root=tmp_path)
    assert [p.split(": ", 2)[1] for p in problems] == [
        "docs/nothing.md",
        "docs/guide.md#nowhere",
        "../shared/notes.md",
        "#bottom",
        "/docs/guide.md",
        "code.py#L1",
        "docs/gone.md",
    ], problems
