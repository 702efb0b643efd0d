"""LA401-LA404 through real flake8 and the plugin in-process: exact messages, spellings, odd code."""
import logging
import textwrap

import pytest

from lightning_advisor.catalog import rule
from rulebook import codes, flake8, lint

TUTORIAL = textwrap.dedent(
    """\
    import pytorch_lightning as pl
    from pytorch_lightning.core.lightning import LightningModule


    class LitModel(LightningModule):
        def training_step(self, batch, batch_idx):
            loss = self(batch).sum()
            return {"loss": loss, "log": {"train_loss": loss}}

        def validation_epoch_end(self, outputs):
            pass


    trainer = pl.Trainer(gpus=1, auto_scale_batch_size="power")
    trainer = pl.Trainer(auto_lr_find=True)
    """
)


findings = lint


def test_the_issues_tutorial_lines_get_their_exact_2x_replacements():
    result = flake8("--isolated", "--select", "LA", "-", "--stdin-display-name", "train.py", stdin=TUTORIAL)
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [
        "train.py:2:1: " + rule("LA403").render(
            path="pytorch_lightning.core.lightning", replacement="import LightningModule from pytorch_lightning"
        ),
        "train.py:8:9: " + rule("LA404").render(step="training_step", keys="'log'"),
        "train.py:10:5: " + rule("LA402").render(
            kind="LightningModule",
            hook="validation_epoch_end",
            replacement="use on_validation_epoch_end, keeping what validation_step returns in a list on self",
        ),
        "train.py:14:22: " + rule("LA401").render(argument="gpus", replacement='pass accelerator="gpu", devices=1'),
        # fit() never ran the tuner in 1.x, only trainer.tune() did: without it, the faithful advice is removal
        "train.py:14:30: " + rule("LA401").render(argument="auto_scale_batch_size", replacement=NO_TUNE),
        "train.py:15:22: " + rule("LA401").render(argument="auto_lr_find", replacement=NO_TUNE),
    ]


NO_TUNE = "remove it: Lightning 1.x ran the tuner only in trainer.tune(), which this program never calls"


def test_the_tuner_is_advised_where_the_program_calls_trainer_tune():
    tuner = "(from pytorch_lightning.tuner import Tuner)"
    source = "import pytorch_lightning as pl\ntrainer = pl.Trainer(auto_lr_find=True)\ntrainer.tune(model)\n"
    assert [found.message for found in lint(source)] == [
        rule("LA401").render(
            argument="auto_lr_find",
            replacement=f"run Tuner(trainer).lr_find(model) {tuner} or add the LearningRateFinder callback",
        ),
        rule("LA405").render(  # and trainer.tune() itself is gone
            what="trainer.tune()",
            replacement=f"run Tuner(trainer).lr_find(model) or Tuner(trainer).scale_batch_size(model) {tuner}",
        ),
    ]


@pytest.mark.parametrize("call, replacement", [
    # a value that may be 0: the advice must be right for every value
    ("pl.Trainer(gpus=int(torch.cuda.is_available()))",
     'pass accelerator="gpu", devices=int(torch.cuda.is_available()) where int(torch.cuda.is_available()) is '
     'above 0, and accelerator="cpu" without devices where it is 0'),
    ("pl.Trainer(accelerator=\"gpu\", gpus=1)", "pass devices=1"),  # no second accelerator=
    ("pl.Trainer(ipus=None)", "remove it"),
    ("pl.Trainer(checkpoint_callback=ModelCheckpoint(monitor=\"val_loss\"))",
     'pass the callback in callbacks=[ModelCheckpoint(monitor="val_loss")] (enable_checkpointing only takes '
     'True or False)'),
    ("pl.Trainer(checkpoint_callback=False)", "pass enable_checkpointing=False"),
])
def test_advice_that_is_right_for_the_value_and_the_call(call, replacement):
    imports = "import torch\nimport pytorch_lightning as pl\nfrom pytorch_lightning.callbacks import ModelCheckpoint\n"
    source = f"{imports}{call}\n"
    (found,) = lint(source)
    assert found.message.split("; ", 1)[1] == replacement


def test_messages_read_as_documented():
    assert findings(TUTORIAL)[3][2] == (
        'LA401 Trainer argument gpus no longer exists in Lightning 2.x; pass accelerator="gpu", devices=1'
    )


@pytest.mark.parametrize(
    "imports, trainer",
    [
        ("import pytorch_lightning as pl", "pl.Trainer"),
        ("import lightning.pytorch as pl", "pl.Trainer"),
        ("import lightning as L", "L.Trainer"),
        ("import lightning as L", "L.pytorch.Trainer"),
        ("from pytorch_lightning import Trainer as T", "T"),
        ("from lightning.pytorch.trainer.trainer import Trainer", "Trainer"),
    ],
)
def test_trainer_in_every_spelling_and_the_namespace_in_the_advice(imports, trainer):
    result = findings(f"{imports}\nt = {trainer}(tpu_cores=8, auto_lr_find=True)\nt.tune(model)\n")
    assert [message.split()[0] for _, _, message in result] == ["LA401", "LA401", "LA405"]
    namespace = "pytorch_lightning" if "pytorch_lightning" in imports else "lightning.pytorch"
    assert f"from {namespace}.tuner import Tuner" in result[1][2]
    assert f"from {namespace}.tuner import Tuner" in result[2][2]  # t.tune(): t is that Trainer


@pytest.mark.parametrize(
    "source",
    [
        "import torch\nTrainer(gpus=1)\n",  # not imported: cannot tell what it is
        "from transformers import Trainer\nimport torch\nTrainer(gpus=1)\n",
        "import pytorch_lightning as pl\nclass Trainer:\n    pass\nTrainer(gpus=1)\n",
        "import pytorch_lightning as pl\nTrainer = make_trainer()\nTrainer(gpus=1)\n",  # rebinding is not followed
        "import pytorch_lightning as pl\npl.Trainer(accelerator='gpu', devices=1, use_distributed_sampler=False)\n",
        "import pytorch_lightning as pl\npl.Trainer(**options)\n",
        "import pytorch_lightning as pl\npl.Trainer.from_argparse_args(args)\n",
    ],
)
def test_quiet_trainer_calls(source):
    assert [c for c in codes(source) if c[1] == "LA401"] == []


def test_a_long_value_is_elided_and_a_multiline_one_is_unparsed():
    source = """\
    import pytorch_lightning as pl
    pl.Trainer(resume_from_checkpoint=os.path.join(args.output_directory, "checkpoints", "last.ckpt"))
    pl.Trainer(gpus=[
        0, 1])
    """
    (_, _, long), (_, _, multi) = findings(source)
    assert long.endswith("pass it to fit: trainer.fit(model, ckpt_path=...)")
    assert multi.endswith('pass accelerator="gpu", devices=[0, 1]')


def test_hooks_on_non_lightning_classes_and_module_functions_are_quiet():
    source = """\
    import pytorch_lightning as pl
    from torch import nn

    def validation_epoch_end(outputs):
        return outputs

    class Net(nn.Module):
        def training_epoch_end(self, outputs):
            return outputs

    class Unknown(SomethingImported):
        def on_epoch_end(self):
            pass
    """
    assert codes(source) == []


def test_hooks_through_a_local_base_class_and_nested_callbacks():
    source = """\
    import lightning as L

    class Base(L.LightningModule):
        pass

    class Model(Base):
        def test_epoch_end(self, outputs):
            pass

    class Printer(L.Callback):
        def on_init_start(self, trainer):
            pass
    """
    assert codes(source) == [(7, "LA402"), (11, "LA402")]


def test_logging_dicts_in_all_the_shapes_tutorials_used():
    source = """\
    import collections
    import pytorch_lightning as pl

    class M(pl.LightningModule):
        def training_step(self, batch, batch_idx):
            if batch_idx:
                return collections.OrderedDict([("loss", 1)])  # not followed: a list of pairs
            return dict({"loss": 1}, log={})

        def validation_step(self, batch, batch_idx):
            base = {"val_loss": 1}
            return {**base, "progress_bar": base}

        async def test_step(self, batch, batch_idx):
            return {"log": {}}
    """
    assert codes(source) == [(8, "LA404"), (12, "LA404"), (15, "LA404")]


def test_an_import_that_binds_a_removed_module_is_reported_once_not_at_each_use():
    source = """\
    import pytorch_lightning as pl
    from pytorch_lightning import metrics
    import pytorch_lightning.metrics.functional as FM

    acc = metrics.Accuracy()
    value = FM.accuracy(preds, target)
    other = pl.metrics.functional.f1(preds, target)
    """
    assert codes(source) == [(2, "LA403"), (3, "LA403"), (7, "LA403")]
    assert findings(source)[2][2].endswith("import from torchmetrics.functional")


ODD_SOURCES = [
    "import pytorch_lightning as pl\npl.Trainer(**None, gpus=1)\n",
    "import pytorch_lightning as pl\npl.Trainer(*args, gpus=lambda: 1)\n",
    "import pytorch_lightning as pl\nclass M(pl.LightningModule):\n    training_step = staticmethod(print)\n",
    "import pytorch_lightning as pl\nclass M(pl.LightningModule):\n    def training_step(self):\n        return\n",
    "import pytorch_lightning as pl\nclass M(pl.LightningModule):\n    def training_step(self):\n"
    "        return {1: 2, None: 3, **x}\n",
    "import pytorch_lightning as pl\nclass M(pl.LightningModule, metaclass=X):\n    def on_epoch_end(self):\n"
    "        match x:\n            case {'log': y}:\n                return {'log': y}\n",
    "from pytorch_lightning import *\nfrom . import lightning\nfrom .. import metrics\nimport pytorch_lightning\n",
    "import lightning\nlightning.pytorch.metrics\nlightning()\nlightning.x.y.z()\n",
]


@pytest.mark.parametrize("source", ODD_SOURCES)
def test_odd_code_never_raises(source, caplog):
    with caplog.at_level(logging.WARNING, logger="flake8.lightning_advisor"):
        findings(source)
    assert "internal error" not in caplog.text
