"""End to end: a Lightning 1.x tutorial program goes through ``check --fix --unsafe-fixes`` and trains on 2.x.

``examples/upgrade/train_1x.py`` is written the way 1.x tutorials were (logging dicts returned from steps,
``validation_epoch_end`` returning a ``"log"`` dict, ``Trainer(gpus=1, progress_bar_refresh_rate=20,
auto_lr_find=True)``, ``pytorch_lightning.core.lightning``, ``Trainer.from_argparse_args``); Lightning 2.x
cannot run it. ``train_2x.py`` beside it is exactly what the fixes make of it (``pytest --update-expected``
rewrites it: review the diff). The fixed program must train, with ``fast_dev_run``, and log the metric
names the 1.x program meant to log.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rulebook import ROOT
from test_check_command import check

UPGRADE = ROOT / "examples" / "upgrade"
BEFORE, AFTER = UPGRADE / "train_1x.py", UPGRADE / "train_2x.py"
MEANT_TO_LOG = ["train_loss", "val_acc", "val_loss"]  # its "log" and "progress_bar" dicts

# Both entry points of the program, on CPU: the notebook cell asks for a GPU, which this machine may lack.
RUN = """
import json, sys, torch
source = open(sys.argv[1]).read()
if not torch.cuda.is_available():
    source = source.replace('accelerator="gpu"', 'accelerator="cpu"')
namespace = {"__name__": "tutorial"}
exec(compile(source, sys.argv[1], "exec"), namespace)
logged = {}
for entry in ("main", "notebook"):
    trainer = namespace["notebook"]() if entry == "notebook" else namespace["main"]([])
    logged[entry] = [trainer.state.status.value, sorted(trainer.callback_metrics)]
print(json.dumps(logged))
"""


def _train(path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PL_TRAINER_FAST_DEV_RUN="1")  # Lightning 2.x reads Trainer defaults from PL_TRAINER_*
    return subprocess.run([sys.executable, "-c", RUN, str(path)], capture_output=True, text=True, env=env,
                          cwd=path.parent, timeout=600)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("upgrade") / "train.py"
    shutil.copyfile(BEFORE, target)
    status, out, err = check("--isolated", "--fix", "--unsafe-fixes", target.name, cwd=target.parent)
    assert (status, err) == (0, ""), out + err
    return target


def test_the_fixes_give_the_locked_2x_program(fixed, request):
    if request.config.getoption("--update-expected"):
        AFTER.write_text(fixed.read_text())
    assert fixed.read_text() == AFTER.read_text()


def test_nothing_is_left_to_report_and_a_second_fix_changes_nothing(fixed, tmp_path):
    again = tmp_path / "train.py"
    shutil.copyfile(fixed, again)
    assert check("--isolated", "--fix", "--unsafe-fixes", again.name, cwd=tmp_path) == (0, "", "")
    assert again.read_text() == fixed.read_text()


def test_the_1x_program_does_not_run_on_lightning_2x(tmp_path):
    result = _train(shutil.copyfile(BEFORE, tmp_path / "train.py"))
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'pytorch_lightning.core.lightning'" in result.stderr


def test_the_fixed_program_trains_and_logs_what_the_1x_program_meant_to_log(fixed):
    result = _train(fixed)
    assert result.returncode == 0, result.stderr[-3000:]
    logged = json.loads(result.stdout.splitlines()[-1])
    assert logged == {entry: ["finished", MEANT_TO_LOG] for entry in ("main", "notebook")}
