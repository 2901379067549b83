"""benchmarks.batch_cost runs against the session as it is (it calls its inline path); no number is checked."""

from __future__ import annotations

from benchmarks import batch_cost


def test_every_part_runs_on_a_batch() -> None:
    names = []
    for name, serve in batch_cost.parts():
        serve()
        names.append(name)
    assert len(names) == 6 and any("inline" in name for name in names)
