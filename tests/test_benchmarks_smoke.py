"""The benchmark scripts run, print their tables and write JSON of the expected shape (``--quick``).

Nothing here looks at a timing: the figures live in BENCHMARKS.md and are measured by the scripts.
"""
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


def run_quick(script: str, tmp_path: Path) -> tuple:
    out = tmp_path / f"{script}.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{script}.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["benchmark"] == script and payload["quick"] is True
    assert {"cpu", "cores", "python", "versions"} <= set(payload["machine"])
    assert "Machine: " in result.stdout
    return result.stdout, payload


def test_static_overhead(tmp_path):
    stdout, payload = run_quick("static_overhead", tmp_path)
    assert payload["corpus"]["files"] > 0 and payload["corpus"]["lines"] > 0
    arms = {arm["plugins"]: arm for arm in payload["arms"]}
    assert {"none", "F,E,W,C90", "F,E,W,C90,LA", "LA"} <= set(arms)
    assert all(arm["median_s"] > 0 and arm["lines_per_s"] > 0 for arm in arms.values())
    assert arms["LA"]["findings"] > 0  # the repo's examples and fixtures make LA mistakes on purpose
    assert arms["none"]["findings"] == 0
    assert payload["comparisons"][0]["verdict"] in ("met", "MISSED")
    assert "| flake8 default checks + LA" in stdout and "| comparison" in stdout


def test_editor_latency(tmp_path):
    stdout, payload = run_quick("editor_latency", tmp_path)
    assert payload["script"]["lines"] >= 450
    assert [arm["arm"] for arm in payload["arms"]] == ["flake8 default checks", "flake8 default checks + LA"]
    added = payload["results"][0]
    assert added["measure"].startswith("added by LA") and isinstance(added["value"], float)
    assert payload["import_probe"]["fresh"][0]["seconds"] > 0
    assert "| added by LA" in stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_counts_grow_with_the_work_and_repeat_exactly():
    """``harness.instructions``: what editor_latency.py compares when wall-clock figures follow the machine."""
    spec = importlib.util.spec_from_file_location("harness", BENCHMARKS / "harness.py")
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    small = harness.instructions([sys.executable, "-c", "pass"])
    big, again = (harness.instructions([sys.executable, "-c", "sum(range(10 ** 6))"]) for _ in range(2))
    assert big > small + 10_000_000  # a million additions cost more than ten instructions each
    assert abs(big - again) < big / 1000


def test_static_scaling(tmp_path):
    stdout, payload = run_quick("static_scaling", tmp_path)
    assert payload["sizes"][-1]["size"] == "whole"
    assert all(size["j1_s"] > 0 and size["j2_s"] > 0 for size in payload["sizes"])
    assert payload["in_process"]["files"] > 0 and payload["in_process"]["plugin_s"] > 0
    assert 0 < len(payload["slowest"]) <= 5 and all(s["plugin_ms"] >= 0 for s in payload["slowest"])
    assert "slowest files for the plugin alone" in stdout


def test_callback_overhead(tmp_path):
    pytest.importorskip("lightning.pytorch")
    stdout, payload = run_quick("callback_overhead", tmp_path)
    assert [arm["arm"] for arm in payload["arms"]] == [
        "without AdvisorCallback", "with an empty Callback", "with AdvisorCallback"]
    assert all(arm["median_s"] > 0 for arm in payload["arms"])
    assert payload["results"][0]["verdict"] in ("met", "MISSED")
    assert "| with AdvisorCallback" in stdout


def test_readme_quotes_the_figures_of_benchmarks_md():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Benchmarks", 1)[1].split("\n## ", 1)[0]
    figures = re.findall(r"\*\*([^*]+)\*\*", section)
    assert len(figures) >= 4
    benchmarks = (ROOT / "BENCHMARKS.md").read_text()
    assert [figure for figure in figures if figure not in benchmarks] == []


def test_documented_commands_name_real_scripts_and_options():
    for document in ("README.md", "BENCHMARKS.md"):
        for script, options in re.findall(r"python (benchmarks/\w+\.py)([^\n#]*)", (ROOT / document).read_text()):
            assert (ROOT / script).is_file(), script
            usage = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, cwd=ROOT)
            assert usage.returncode == 0, usage.stderr
            for option in re.findall(r"(--[\w-]+)", options):
                assert option in usage.stdout, (document, script, option)


def test_same_ending_finds_both_programs_end_alike():
    pytest.importorskip("lightning.pytorch")
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "same_ending.py"), "--epochs", "1", "--batches", "8"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("mnist_")]
    assert [line.split(":")[0] for line in lines] == ["mnist_clean", "mnist_mistakes"]
    assert all(line.endswith("status same, global step same, metrics same, weights same") for line in lines)


def test_lightning_suite_comparison_lists_each_difference(tmp_path):
    import json

    rows = {
        "without": [("t::a", "passed", ""), ("t::b", "passed", ""), ("t::c", "skipped", "")],
        "with": [("t::a", "passed", ""), ("t::b", "failed", "AssertionError: 3 callbacks"), ("t::c", "skipped", "")],
    }
    for arm, outcomes in rows.items():
        (tmp_path / f"{arm}.jsonl").write_text("".join(
            json.dumps({"test": t, "outcome": o, "failure": f, "internal_errors": []}) + "\n" for t, o, f in outcomes
        ))
    out = tmp_path / "compare.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "lightning_suite.py"), "--tests", str(tmp_path), "--out", str(tmp_path),
         "--compare-only", "--json", str(out)], capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "same outcome: 2; different: 1" in result.stdout
    compared = json.loads(out.read_text())
    assert [d["test"] for d in compared["different"]] == ["t::b"]
    assert compared["counts"]["with"] == {"passed": 1, "failed": 1, "skipped": 1}


def test_notebooks_are_written_out_for_the_accuracy_corpus(tmp_path):
    """``benchmarks/notebooks.py``: code cells in order, magic and shell lines out, a taken name left alone."""
    cells = [
        {"cell_type": "markdown", "source": ["# Title"]},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "import torch\n", "!pip install x\n"]},
        {"cell_type": "code", "source": "x = torch.zeros(2)\nprint('%d items' % len(x))"},
    ]
    (tmp_path / "demo.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4}))
    (tmp_path / "kept.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4}))
    (tmp_path / "kept.py").write_text("# the repository's own file\n")
    (tmp_path / "broken.ipynb").write_text("{not json")
    result = subprocess.run([sys.executable, str(BENCHMARKS / "notebooks.py"), str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo.py").read_text() == "import torch\n\nx = torch.zeros(2)\nprint('%d items' % len(x))\n"
    assert (tmp_path / "kept.py").read_text() == "# the repository's own file\n"
    assert not (tmp_path / "broken.py").exists()
    assert "1 written; name taken: ['kept.ipynb']; unreadable: ['broken.ipynb']" in result.stdout
