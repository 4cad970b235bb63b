"""Benchmark history: append with the commit, render the trend between the doc's markers."""

from __future__ import annotations

import json

import pytest

from municloud_ops.loadtest import bench_history

pytestmark = pytest.mark.unit


def test_append_records_the_figures_with_commit_and_load(tmp_path):
    path = tmp_path / "benchmarks.jsonl"
    bench_history.append("read_path", {"rps": 120.5, "users": 200}, path=path)
    bench_history.append("hub", {"end_to_end_msg_s": 80.0}, path=path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["benchmark"] for r in records] == ["read_path", "hub"]
    assert records[0]["figures"] == {"rps": 120.5, "users": 200}
    assert records[0]["commit"] and records[0]["load_average"] >= 0


def test_append_refuses_a_run_without_figures(tmp_path):
    with pytest.raises(ValueError, match="read_path: no figures"):
        bench_history.append("read_path", {}, path=tmp_path / "b.jsonl")


def test_render_rewrites_only_the_part_between_the_markers(tmp_path):
    path = tmp_path / "benchmarks.jsonl"
    bench_history.append("read_path", {"rps": 120.5, "p95_ms": 480}, path=path)
    doc = tmp_path / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    doc.write_text(f"# B\nbefore\n{bench_history.BEGIN}\nold\n{bench_history.END}\nafter\n")
    sentence = bench_history.render(doc, path, tmp_path / "reports" / "trend.png")
    text = doc.read_text()
    assert sentence == "rendered 1 benchmark run(s) from benchmarks.jsonl into benchmarks.md"
    assert "old" not in text and text.startswith("# B\nbefore\n") and text.endswith("after\n")
    assert "| read_path |" in text and "120.5 req/s" in text and "p95_ms 480" in text
    assert (tmp_path / "reports" / "trend.png").stat().st_size > 0


def test_render_refuses_a_doc_without_the_markers(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n")
    with pytest.raises(ValueError, match="markers"):
        bench_history.render(doc, tmp_path / "none.jsonl", tmp_path / "t.png")
