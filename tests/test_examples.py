"""The reference MNIST trainers: flake8 findings at the marked lines, runtime advice, real IDX loading."""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys

import pytest

from rulebook import ROOT, expected_findings, flake8, reported_findings

EXAMPLES = ROOT / "examples"
MISTAKES = EXAMPLES / "mnist_mistakes.py"
CLEAN = EXAMPLES / "mnist_clean.py"
STATIC_CODES = {"LA101", "LA102", "LA104", "LA201", "LA202", "LA301", "LA302", "LA303", "LA501", "LA502", "LA503"}
# At run time on a CPU machine: all but the guarded .cuda() / "cuda" lines, which never run there (LA201 /
# LA202 are static-only here); LA103 appears when the machine's timing crosses its threshold.
RUNTIME_CODES = {"LA101", "LA102", "LA104", "LA301", "LA302", "LA303", "LA501", "LA502", "LA503"}


def test_mistakes_variant_reports_every_static_code_at_its_marked_line_and_nothing_else():
    marked = expected_findings(MISTAKES)
    assert {code for _, code in marked} == STATIC_CODES
    assert len(marked) == len(STATIC_CODES)  # each mistake exactly once
    result = flake8("--select", "LA", str(MISTAKES))
    assert result.returncode == 1, result.stderr
    assert sorted(reported_findings(result.stdout)) == sorted(marked)


def test_clean_variant_and_shared_code_report_nothing():
    result = flake8("--select", "LA", str(CLEAN), str(EXAMPLES / "mnist_common.py"))
    assert (result.returncode, result.stdout) == (0, "")


def _run_example(script, *args, timeout=600):
    env = dict(os.environ, PYTHONWARNINGS="default", CUDA_VISIBLE_DEVICES="")
    return subprocess.run(
        [sys.executable, str(script), "--max-epochs", "1", "--limit-batches", "4", "--batch-size", "32",
         "--accelerator", "cpu", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env,
    )


def _advisor_codes(output: str):
    return set(re.findall(r"AdvisorWarning: (LA\d{3})", output))


def test_mistakes_variant_warns_at_run_time():
    # 12 training batches: LA102 is judged on measured fetches, after a warm-up of 5 and at least 5 measured
    result = _run_example(MISTAKES, "--synthetic", "--limit-batches", "12")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    codes = _advisor_codes(output)
    assert RUNTIME_CODES <= codes, output[-4000:]
    assert codes <= RUNTIME_CODES | {"LA103"}
    assert "synthetic digits, not MNIST accuracy" in result.stdout
    assert re.search(r"^validation accuracy: \d\.\d{4}", result.stdout, re.M)


def test_clean_variant_runs_without_any_advice():
    result = _run_example(CLEAN, "--synthetic")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert _advisor_codes(output) == set(), output[-4000:]
    assert "lightning-advisor findings: none" in result.stdout


def _write_idx(path, array_bytes, dims):
    with open(path, "wb") as handle:
        # Magic number: two zero bytes, 0x08 (unsigned byte data), then the number of dimensions.
        handle.write(struct.pack(">I", 0x0800 | len(dims)))
        for dim in dims:
            handle.write(struct.pack(">I", dim))
        handle.write(array_bytes)


def write_tiny_mnist(root, train=240, test=60):
    """MNIST in its original IDX files, as torchvision's MNIST reads them from <root>/MNIST/raw."""
    sys.path.insert(0, str(EXAMPLES))
    from mnist_common import synthetic_digits

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count, seed in (("train", train, 1), ("t10k", test, 2)):
        images, labels = synthetic_digits(count, seed)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images.numpy().tobytes(), (count, 28, 28))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels.to(dtype=images.dtype).numpy().tobytes(), (count,))
    return labels


def test_idx_files_load_through_torchvisions_mnist(tmp_path):
    pytest.importorskip("torchvision")
    write_tiny_mnist(tmp_path)
    from mnist_common import load_mnist
    from torchvision.datasets import MNIST

    train, test, source = load_mnist(str(tmp_path))
    assert source == "MNIST"
    assert isinstance(train, MNIST) and isinstance(test, MNIST)
    assert (len(train), len(test)) == (240, 60)
    image, label = train[0]
    assert tuple(image.shape) == (1, 28, 28) and 0 <= label <= 9
    assert int(train.targets[0]) == label


def test_example_trains_on_idx_mnist_without_network(tmp_path):
    write_tiny_mnist(tmp_path)
    result = _run_example(CLEAN, "--data-dir", str(tmp_path))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "synthetic" not in result.stdout + result.stderr
    assert re.search(r"^test accuracy: \d\.\d{4}$", result.stdout, re.M)


def test_readme_shows_the_real_flake8_output_for_the_mistakes_variant():
    readme = (ROOT / "README.md").read_text()
    shown = [line for line in readme.splitlines() if re.match(r"examples/mnist_mistakes\.py:\d+:\d+: LA", line)]
    result = flake8("--select", "LA", "examples/mnist_mistakes.py")
    assert shown == result.stdout.splitlines()
