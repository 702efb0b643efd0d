"""What Lightning 2.x removed from the 1.x API, and what replaced it: the data behind LA401 to LA404.

Taken from Lightning's own records: the "Removed" and "Renamed" entries of its changelog
(``src/lightning/pytorch/CHANGELOG.md``, releases 1.5 to 2.0) and its upgrade guide
(``docs/source-pytorch/upgrade/``). ``tests/test_removed_api.py`` checks every entry against the
installed Lightning 2.x, in both namespaces: nothing listed here may exist there, and every
replacement a message names must.

Plain data and string work only: the flake8 plugin imports this module on every run.

Paths are relative to a Lightning namespace (``pytorch_lightning`` or ``lightning.pytorch``).
Replacements are ``str.format`` templates: ``{ns}`` is the user's Lightning namespace, ``{fabric}``
the matching Fabric package, ``{value}`` the source of the argument's value, ``{tail}`` the part of
an imported module path below the removed one (``.functional`` in ``pytorch_lightning.metrics.functional``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, Mapping, Optional, Tuple

from lightning_advisor.vocabulary import (
    CALLBACK,
    DATAMODULE,
    FABRIC_OF,
    LIGHTNING_NAMESPACES,
    MODULE,
    lightning_namespace,
)


def split_namespace(path: str) -> Optional[Tuple[str, str]]:
    """``"pytorch_lightning.core.lightning"`` -> ``("pytorch_lightning", "core.lightning")``; None elsewhere."""
    namespace = lightning_namespace(path)
    if namespace is None:
        return None
    return namespace, path[len(namespace) + 1:]


def fabric_of(namespace: str) -> str:
    return FABRIC_OF.get(namespace, FABRIC_OF[LIGHTNING_NAMESPACES[0]])


# -- LA401: Trainer arguments ---------------------------------------------------------------------


@dataclass(frozen=True)
class TrainerArgument:
    use: str
    """What to do instead, as a template."""
    when: Mapping[object, str] = field(default_factory=dict)
    """What to do instead for particular constant values (``gpus=0``, ``auto_lr_find=False``)."""
    unknown: Optional[str] = None
    """What to do when the value is not a constant: advice right for every value it can have."""
    called: Optional[str] = None
    """What to do when the value is a call (``checkpoint_callback=ModelCheckpoint(...)``)."""
    with_accelerator: Optional[str] = None
    """What to do when the call already passes ``accelerator=``: no second one."""
    accelerator: Optional[str] = None
    """For a device-count argument: its accelerator, when the call already passes ``devices=``."""
    without_tune: Optional[str] = None
    """What to do when the program never calls ``trainer.tune()``, the only 1.x call that ran the tuner."""


_REMOVE = "remove it"
_TUNER = "from {ns}.tuner import Tuner"
_NO_TUNE = "remove it: Lightning 1.x ran the tuner only in trainer.tune(), which this program never calls"
_DEVICES_UNKNOWN = (
    'pass accelerator="{accelerator}", devices={value} where {value} is above 0, '
    'and accelerator="cpu" without devices where it is 0'
)

REMOVED_TRAINER_ARGUMENTS: Dict[str, TrainerArgument] = {
    # 2.0: legacy device arguments (#16171), automatic GPU selection (#16184)
    "gpus": TrainerArgument(
        'pass accelerator="gpu", devices={value}',
        {0: 'remove it (accelerator="cpu" runs on the CPU)', None: _REMOVE},
        unknown=_DEVICES_UNKNOWN.format(accelerator="gpu", value="{value}"),
        with_accelerator="pass devices={value}",
        accelerator="gpu",
    ),
    "tpu_cores": TrainerArgument(
        'pass accelerator="tpu", devices={value}',
        {None: _REMOVE},
        unknown=_DEVICES_UNKNOWN.format(accelerator="tpu", value="{value}"),
        with_accelerator="pass devices={value}",
        accelerator="tpu",
    ),
    "ipus": TrainerArgument(
        "pass devices={value} with the IPU accelerator of the lightning-graphcore package", {None: _REMOVE, 0: _REMOVE}
    ),
    "num_processes": TrainerArgument('pass accelerator="cpu", devices={value}', accelerator="cpu"),
    "auto_select_gpus": TrainerArgument(
        "pass devices=find_usable_cuda_devices(n) (from {ns}.accelerators import find_usable_cuda_devices)",
        {False: _REMOVE, None: _REMOVE},
    ),
    # 2.0: the tuner is no longer part of the Trainer (#16462)
    "auto_lr_find": TrainerArgument(
        f"run Tuner(trainer).lr_find(model) ({_TUNER}) or add the LearningRateFinder callback",
        {False: _REMOVE},
        without_tune=_NO_TUNE,
    ),
    "auto_scale_batch_size": TrainerArgument(
        f"run Tuner(trainer).scale_batch_size(model, mode={{value}}) ({_TUNER}) or add the BatchSizeFinder callback",
        {
            False: _REMOVE,
            None: _REMOVE,
            True: f"run Tuner(trainer).scale_batch_size(model) ({_TUNER}) or add the BatchSizeFinder callback",
        },
        without_tune=_NO_TUNE,
    ),
    # 2.0: other removed and renamed arguments
    "resume_from_checkpoint": TrainerArgument("pass it to fit: trainer.fit(model, ckpt_path={value})", {None: _REMOVE}),
    "replace_sampler_ddp": TrainerArgument("it was renamed: pass use_distributed_sampler={value}"),
    "track_grad_norm": TrainerArgument(
        "log grad_norm(self, norm_type={value}) in on_before_optimizer_step "
        "(from {ns}.utilities import grad_norm)",
        {-1: _REMOVE},
    ),
    "amp_backend": TrainerArgument('remove it: precision="16-mixed" uses native torch.amp (apex support was removed)'),
    "amp_level": TrainerArgument('remove it: precision="16-mixed" uses native torch.amp (apex support was removed)'),
    "move_metrics_to_cpu": TrainerArgument(
        "remove it and keep metrics on the CPU yourself (torchmetrics: compute_on_cpu=True)", {False: _REMOVE}
    ),
    "multiple_trainloader_mode": TrainerArgument(
        "pass the training loaders as CombinedLoader(loaders, mode={value}) (from {ns}.utilities import CombinedLoader)"
    ),
    # 1.7 and 1.8
    "progress_bar_refresh_rate": TrainerArgument(
        "pass callbacks=[TQDMProgressBar(refresh_rate={value})]", {0: "pass enable_progress_bar=False"}
    ),
    "weights_summary": TrainerArgument(
        "pass callbacks=[ModelSummary(max_depth=...)] (-1 for the full summary)",
        {
            None: "pass enable_model_summary=False",
            "top": _REMOVE,
            "full": "pass callbacks=[ModelSummary(max_depth=-1)]",
        },
    ),
    "checkpoint_callback": TrainerArgument(
        "pass enable_checkpointing={value} if it is True or False, or callbacks=[{value}] if it is a ModelCheckpoint",
        {False: "pass enable_checkpointing=False", True: _REMOVE},
        called="pass the callback in callbacks=[{value}] (enable_checkpointing only takes True or False)",
    ),
    "terminate_on_nan": TrainerArgument("pass detect_anomaly=True", {False: _REMOVE}),
    "stochastic_weight_avg": TrainerArgument(
        "pass callbacks=[StochasticWeightAveraging(swa_lrs=...)]", {False: _REMOVE}
    ),
    "flush_logs_every_n_steps": TrainerArgument(
        "pass it to a logger that takes it, e.g. CSVLogger(save_dir, flush_logs_every_n_steps={value})"
    ),
    "process_position": TrainerArgument("pass callbacks=[TQDMProgressBar(process_position={value})]"),
    "prepare_data_per_node": TrainerArgument(
        "set self.prepare_data_per_node = {value} in the __init__ of your LightningModule or LightningDataModule"
    ),
    "log_gpu_memory": TrainerArgument("pass callbacks=[DeviceStatsMonitor()]", {None: _REMOVE, False: _REMOVE}),
    "weights_save_path": TrainerArgument("pass callbacks=[ModelCheckpoint(dirpath={value})]"),
    # 1.5 and 1.6
    "reload_dataloaders_every_epoch": TrainerArgument(
        "pass reload_dataloaders_every_n_epochs=1", {False: _REMOVE}
    ),
    "distributed_backend": TrainerArgument(
        "it was renamed: pass strategy={value}",
        {
            "ddp_cpu": 'pass accelerator="cpu", strategy="ddp"',
            "ddp2": 'pass strategy="ddp"',
            "dp": 'DataParallel support was removed: pass strategy="ddp"',
        },
    ),
    "truncated_bptt_steps": TrainerArgument(
        "remove it: truncated backpropagation is no longer built in; split sequences in training_step "
        "with manual optimization"
    ),
    # 1.3
    "automatic_optimization": TrainerArgument(
        "set self.automatic_optimization = {value} in the __init__ of your LightningModule"
    ),
    "enable_pl_optimizer": TrainerArgument(_REMOVE),
}


def trainer_argument_replacement(
    name: str,
    value_source: str,
    constant: Tuple[bool, object],
    namespace: str,
    *,
    is_call: bool = False,
    has_accelerator: bool = False,
    has_devices: bool = False,
    tunes: bool = True,
) -> str:
    """What to pass instead of the removed Trainer argument ``name``, given its value and the call around it.

    ``constant``: ``(True, value)`` when the value is a constant the linter reads; ``is_call``: the value is
    a call expression; ``has_accelerator`` / ``has_devices``: the call passes ``accelerator=`` /
    ``devices=`` too, so the advice must not add a second one; ``tunes``: the program
    calls ``trainer.tune()``.
    """
    argument = REMOVED_TRAINER_ARGUMENTS[name]
    known, value = constant
    template = None
    if known:
        try:
            template = argument.when.get(value)
        except TypeError:  # an unhashable literal
            pass
    if template is None and not tunes and argument.without_tune:
        template = argument.without_tune
    if template is None and has_devices and argument.accelerator:
        template = _REMOVE if has_accelerator else (
            f'remove it and pass accelerator="{argument.accelerator}" (the call already passes devices=)'
        )
    if template is None and has_accelerator and argument.with_accelerator:
        template = argument.with_accelerator
    if template is None and is_call and argument.called:
        template = argument.called
    if template is None and not known and argument.unknown:
        template = argument.unknown
    template = template or argument.use
    return template.format(value=value_source, ns=namespace, fabric=fabric_of(namespace))


# -- LA402: hooks --------------------------------------------------------------------------------

def _epoch_end(stage: str, step: str) -> str:
    return f"use on_{stage}_epoch_end, keeping what {step} returns in a list on self"


def _for(kinds: Iterable[str], use: str) -> Dict[str, str]:
    return {kind: use for kind in kinds}


REMOVED_HOOKS: Dict[str, Dict[str, str]] = {
    # 2.0: epoch-end hooks that kept every step output in memory (#16520), *_step_end (#16791), TBPTT
    # (#16172), log_grad_norm (#16745)
    "training_epoch_end": {MODULE: _epoch_end("train", "training_step")},
    "validation_epoch_end": {MODULE: _epoch_end("validation", "validation_step")},
    "test_epoch_end": {MODULE: _epoch_end("test", "test_step")},
    "training_step_end": {MODULE: "do that work in training_step (or in on_train_batch_end)"},
    "validation_step_end": {MODULE: "do that work in validation_step (or in on_validation_batch_end)"},
    "test_step_end": {MODULE: "do that work in test_step (or in on_test_batch_end)"},
    "tbptt_split_batch": {MODULE: "split the sequence in training_step yourself, with manual optimization"},
    "log_grad_norm": {MODULE: "log grad_norm(self, norm_type=2) from on_before_optimizer_step"},
    # 1.7 and 1.8 (#14834, #14867, #13438, #13033, #14315, #12839, #14909)
    "on_epoch_start": _for(
        (MODULE, CALLBACK), "use on_train_epoch_start (or on_validation_epoch_start / on_test_epoch_start)"
    ),
    "on_epoch_end": _for((MODULE, CALLBACK), "use on_train_epoch_end (or on_validation_epoch_end / on_test_epoch_end)"),
    "on_batch_start": _for((MODULE, CALLBACK), "use on_train_batch_start"),
    "on_batch_end": _for((MODULE, CALLBACK), "use on_train_batch_end"),
    "on_pretrain_routine_start": _for((MODULE, CALLBACK), "use on_fit_start"),
    "on_pretrain_routine_end": _for((MODULE, CALLBACK), "use on_fit_start"),
    "on_hpc_save": {MODULE: "use on_save_checkpoint"},
    "on_hpc_load": {MODULE: "use on_load_checkpoint"},
    "get_progress_bar_dict": {MODULE: "override get_metrics in a subclass of the TQDMProgressBar callback"},
    "on_train_dataloader": _for((MODULE, DATAMODULE), "do that work in train_dataloader"),
    "on_val_dataloader": _for((MODULE, DATAMODULE), "do that work in val_dataloader"),
    "on_test_dataloader": _for((MODULE, DATAMODULE), "do that work in test_dataloader"),
    "on_predict_dataloader": _for((MODULE, DATAMODULE), "do that work in predict_dataloader"),
    "on_save_checkpoint": {DATAMODULE: "return the state to save from state_dict"},
    "on_load_checkpoint": {DATAMODULE: "restore it in load_state_dict"},
    "on_init_start": {CALLBACK: "use setup (or the callback's __init__)"},
    "on_init_end": {CALLBACK: "use setup (or the callback's __init__)"},
    "on_keyboard_interrupt": {CALLBACK: "use on_exception and check isinstance(exception, KeyboardInterrupt)"},
    "on_configure_sharded_model": {CALLBACK: "use setup"},
    "on_before_accelerator_backend_setup": {CALLBACK: "use setup"},
}

REJECTED_HOOKS = frozenset({"training_epoch_end", "validation_epoch_end", "test_epoch_end"})
"""Hooks for which Lightning 2.x refuses to run a module that defines them (NotImplementedError in
``trainer/configuration_validator.py``), even as a helper the module calls itself; the others are ignored."""


# -- LA403: import paths -------------------------------------------------------------------------

_FSDP = 'FairScale support was removed: use FSDPStrategy from {ns}.strategies (strategy="fsdp")'
_APEX = 'apex support was removed: pass precision="16-mixed" (native torch.amp)'

REMOVED_MODULES: Dict[str, str] = {
    "core.lightning": "import LightningModule from {ns}",
    "core.memory": "import ModelSummary from {ns}.utilities.model_summary",
    "core.decorators": "remove auto_move_data: Lightning moves batches itself; use trainer.predict for inference",
    "metrics": "metrics moved to the torchmetrics package: import from torchmetrics{tail}",
    "callbacks.base": "import Callback from {ns}.callbacks",
    "callbacks.progress.base": "import ProgressBar (the renamed ProgressBarBase) from {ns}.callbacks",
    "callbacks.gpu_stats_monitor": "import DeviceStatsMonitor from {ns}.callbacks",
    "callbacks.xla_stats_monitor": "import DeviceStatsMonitor from {ns}.callbacks",
    "callbacks.swa": "import StochasticWeightAveraging from {ns}.callbacks",
    "callbacks.quantization": "QuantizationAwareTraining was removed: use torch.ao.quantization directly",
    "loggers.base": "import Logger (the renamed LightningLoggerBase) from {ns}.loggers",
    "loggers.test_tube": "TestTubeLogger was removed: import TensorBoardLogger from {ns}.loggers",
    "utilities.cli": "import LightningCLI from {ns}.cli",
    "profiler": "import SimpleProfiler and the other profilers from {ns}.profilers",
    "lite": "LightningLite became Fabric: import Fabric from {fabric}",
    "loops.base": "custom Trainer loops are no longer supported: write the loop with Fabric from {fabric}",
    "plugins.training_type": "training type plugins became strategies: import DDPStrategy and the others from "
    "{ns}.strategies",
    "accelerators.gpu": "import CUDAAccelerator from {ns}.accelerators",
    "trainer.supporters": "import CombinedLoader from {ns}.utilities",
    "utilities.supporters": "import CombinedLoader from {ns}.utilities",
    "overrides.fairscale": _FSDP,
    "strategies.sharded": _FSDP,
    "strategies.sharded_spawn": _FSDP,
    "strategies.fully_sharded": _FSDP,
    "strategies.ddp_spawn": 'use DDPStrategy(start_method="spawn") from {ns}.strategies (strategy="ddp_spawn")',
    "strategies.dp": 'DataParallel support was removed: use DDPStrategy from {ns}.strategies (strategy="ddp")',
    "strategies.horovod": 'Horovod support was removed: use DDPStrategy from {ns}.strategies (strategy="ddp")',
    "plugins.precision.apex_amp": _APEX,
    "plugins.precision.native_amp": 'import MixedPrecision from {ns}.plugins (or pass precision="16-mixed")',
    "tuner.auto_gpu_select": "import find_usable_cuda_devices from {ns}.accelerators",
    "utilities.distributed": "import rank_zero_only and the other rank_zero helpers from {ns}.utilities.rank_zero",
    "utilities.apply_func": "import apply_to_collection from lightning_utilities and move_data_to_device from "
    "{fabric}.utilities",
}
"""Modules that no longer exist, and their submodules."""

REMOVED_NAMES: Dict[Tuple[str, str], str] = {
    ("callbacks", "GPUStatsMonitor"): "import DeviceStatsMonitor from {ns}.callbacks",
    ("callbacks", "XLAStatsMonitor"): "import DeviceStatsMonitor from {ns}.callbacks",
    ("callbacks", "ProgressBarBase"): "it was renamed: import ProgressBar from {ns}.callbacks",
    ("callbacks", "QuantizationAwareTraining"): REMOVED_MODULES["callbacks.quantization"],
    ("loggers", "LightningLoggerBase"): "it was renamed: import Logger from {ns}.loggers",
    ("loggers", "LoggerCollection"): "pass a list of loggers instead: Trainer(logger=[...])",
    ("loggers", "TestTubeLogger"): REMOVED_MODULES["loggers.test_tube"],
    ("plugins", "DDPPlugin"): "import DDPStrategy from {ns}.strategies",
    ("plugins", "DDPSpawnPlugin"): 'use DDPStrategy(start_method="spawn") from {ns}.strategies',
    ("plugins", "DeepSpeedPlugin"): "import DeepSpeedStrategy from {ns}.strategies",
    ("plugins", "DDPShardedPlugin"): _FSDP,
    ("plugins", "DDPFullyShardedPlugin"): _FSDP,
    ("plugins", "SingleDevicePlugin"): "import SingleDeviceStrategy from {ns}.strategies",
    ("plugins", "TrainingTypePlugin"): "import Strategy from {ns}.strategies",
    ("plugins", "NativeMixedPrecisionPlugin"): 'import MixedPrecision from {ns}.plugins (or pass precision="16-mixed")',
    ("plugins", "ApexMixedPrecisionPlugin"): _APEX,
    ("accelerators", "GPUAccelerator"): "import CUDAAccelerator from {ns}.accelerators",
    ("strategies", "DDPSpawnStrategy"): 'use DDPStrategy(start_method="spawn") from {ns}.strategies',
    ("strategies", "DDPShardedStrategy"): _FSDP,
    ("strategies", "DDPSpawnShardedStrategy"): _FSDP,
    ("strategies", "DDPFullyShardedStrategy"): _FSDP,
    ("strategies", "DDP2Strategy"): "import DDPStrategy from {ns}.strategies",
    ("strategies", "DataParallelStrategy"): REMOVED_MODULES["strategies.dp"],
    ("strategies", "HorovodStrategy"): REMOVED_MODULES["strategies.horovod"],
    ("strategies", "TPUSpawnStrategy"): "it was renamed: import XLAStrategy from {ns}.strategies",
    ("utilities.seed", "seed_everything"): "import seed_everything from {ns}",
    ("utilities.warnings", "rank_zero_warn"): "import rank_zero_warn from {ns}.utilities.rank_zero",
    ("utilities.warnings", "rank_zero_deprecation"): "import rank_zero_deprecation from {ns}.utilities.rank_zero",
    ("utilities.warnings", "LightningDeprecationWarning"): (
        "import LightningDeprecationWarning from {ns}.utilities.rank_zero"
    ),
}
"""Names that no longer exist in a module that still does: ``(module, name)``."""


def removed_module(path: str) -> Optional[Tuple[str, str, str]]:
    """For a module path under a removed module: ``(namespace, removed module, tail)``; else None."""
    split = split_namespace(path)
    if split is None or not split[1]:
        return None
    namespace, relative = split
    parts = relative.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in REMOVED_MODULES:
            tail = "".join("." + part for part in parts[end:])
            return namespace, prefix, tail
    return None


def removed_import(module: str, name: Optional[str] = None) -> Optional[Tuple[str, str]]:
    """``(what, replacement)`` when importing ``module`` (or ``name`` from it) fails on Lightning 2.x.

    ``what`` is the path the user wrote, ``pytorch_lightning.metrics.functional`` or
    ``pytorch_lightning.callbacks.GPUStatsMonitor``.
    """
    found = removed_module(module)
    if found is not None:
        namespace, prefix, tail = found
        return module, _format(REMOVED_MODULES[prefix], namespace, tail)
    split = split_namespace(module)
    if split is None or name is None:
        return None
    namespace, relative = split
    template = REMOVED_NAMES.get((relative, name))
    if template is not None:
        return f"{module}.{name}", _format(template, namespace, "")
    found = removed_module(f"{module}.{name}")  # ``from pytorch_lightning.core import lightning``
    if found is not None:
        namespace, prefix, tail = found
        return f"{module}.{name}", _format(REMOVED_MODULES[prefix], namespace, tail)
    return None


def _format(template: str, namespace: str, tail: str) -> str:
    return template.format(ns=namespace, fabric=fabric_of(namespace), tail=tail)


# -- LA404: logging dicts returned from steps -------------------------------------------------------

LOGGING_KEYS: Tuple[str, ...] = ("log", "progress_bar")
"""Keys of a step's returned dict that Lightning 0.x logged and Lightning 2.x passes along untouched."""


def logging_keys(keys: Iterable[object]) -> Optional[str]:
    """``"'log' and 'progress_bar'"`` for the logging keys among ``keys``; None when there are none."""
    present = set(keys)
    found = [repr(key) for key in LOGGING_KEYS if key in present]
    return " and ".join(found) if found else None
