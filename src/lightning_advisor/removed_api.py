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

from types import MappingProxyType
from typing import Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

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


class TrainerArgument:
    """What to do about a removed Trainer argument (a plain class: flake8 imports this module on every run).

    - ``use``: what to do instead, as a template;
    - ``when``: what to do instead for particular constant values (``gpus=0``, ``auto_lr_find=False``);
    - ``unknown``: what to do when the value is not a constant: advice right for every value it can have;
    - ``called``: what to do when the value is a call (``checkpoint_callback=ModelCheckpoint(...)``);
    - ``with_accelerator``: what to do when the call already passes ``accelerator=``: no second one;
    - ``accelerator``: for a device-count argument, its accelerator, when the call already passes ``devices=``;
    - ``without_tune``: what to do when the program never calls ``trainer.tune()``, the only 1.x call that
      ran the tuner.
    """

    __slots__ = ("use", "when", "unknown", "called", "with_accelerator", "accelerator", "without_tune")

    def __init__(
        self,
        use: str,
        when: Mapping[object, str] = MappingProxyType({}),
        unknown: Optional[str] = None,
        called: Optional[str] = None,
        with_accelerator: Optional[str] = None,
        accelerator: Optional[str] = None,
        without_tune: Optional[str] = None,
    ) -> None:
        self.use, self.when, self.unknown, self.called = use, when, unknown, called
        self.with_accelerator, self.accelerator, self.without_tune = with_accelerator, accelerator, without_tune


_REMOVE = "remove it"
_TUNER = "from {ns}.tuner import Tuner"
_NO_TUNE = "remove it: Lightning 1.x ran the tuner only in trainer.tune(), which this program never calls"
REMOVAL_ADVICE = frozenset({_REMOVE, _NO_TUNE})
"""Advice that means the argument did nothing the program relied on: ``--fix`` deletes it."""
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

_NO_DP = 'DataParallel support was removed: pass strategy="ddp"'
_NO_HOROVOD = 'Horovod support was removed: pass strategy="ddp"'
_NO_FAIRSCALE = 'FairScale support was removed: pass strategy="fsdp" (native FSDP)'
A_DICT = dict
"""The key of :data:`REMOVED_TRAINER_VALUES` that stands for any dict built in sight (``{0: 8, 4: 2}``)."""

REMOVED_TRAINER_VALUES: Dict[str, Dict[object, str]] = {
    # 1.5-1.7: strategy names passed as accelerator (#10505, #12232); 2.x only takes devices ("cpu", "gpu", ...)
    "accelerator": {
        "ddp": 'pass strategy="ddp"',
        "ddp_spawn": 'pass strategy="ddp_spawn"',
        "ddp_cpu": 'pass accelerator="cpu", strategy="ddp"',
        "ddp2": 'pass strategy="ddp"',
        "dp": _NO_DP,
        "horovod": _NO_HOROVOD,
        "ddp_sharded": _NO_FAIRSCALE,
        "ddp_sharded_spawn": _NO_FAIRSCALE,
        "deepspeed": 'pass strategy="deepspeed"',
        "fsdp": 'pass strategy="fsdp"',
    },
    # 1.8-2.0: strategies that were removed or renamed (#14026, #16748, #16400, #16809, #17058)
    "strategy": {
        "dp": _NO_DP,
        "ddp2": 'pass strategy="ddp"',
        "horovod": _NO_HOROVOD,
        "ddp_sharded": _NO_FAIRSCALE,
        "ddp_sharded_spawn": _NO_FAIRSCALE,
        "ddp_fully_sharded": 'FairScale support was removed: pass strategy="fsdp"',
        "fsdp_native": 'it was renamed: pass strategy="fsdp"',
        "tpu_spawn": 'it was renamed: pass strategy="xla"',
        "tpu_spawn_debug": 'it was renamed: pass strategy="xla_debug"',
        "bagua": 'Bagua support was removed: pass strategy="ddp"',
    },
    # 1.6: None no longer means "no limit" (#9460): Lightning 2.x fails comparing None with a number
    "max_steps": {None: "pass max_steps=-1 (no limit, the default) or leave it out"},
    # 1.9: a scheduling dict (#16729): Lightning 2.x fails at the first batch
    "accumulate_grad_batches": {
        A_DICT: "pass callbacks=[GradientAccumulationScheduler(scheduling={value})] instead"
    },
}
"""Values of Trainer arguments that still exist that Lightning 2.x no longer accepts: argument -> value -> advice."""


def removed_trainer_value(name: str, constant: Tuple[bool, object], is_dict: bool) -> Optional[str]:
    """The advice template for a Trainer argument's value that 2.x rejects, or None when the value is fine."""
    values = REMOVED_TRAINER_VALUES.get(name)
    if values is None:
        return None
    if is_dict:
        return values.get(A_DICT)
    known, value = constant
    if not known or isinstance(value, bool):
        return None
    try:
        return values.get(value)
    except TypeError:  # an unhashable literal
        return None


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
    "on_post_move_to_device": {MODULE: "remove it: Lightning 2.x ties shared parameters itself (#9525)"},
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


class HookCall:
    """How Lightning 2.x calls a hook whose 1.x signature took more: what a 1.x definition gets wrong.

    - ``passes``: the arguments 2.x passes by position, after ``self``, in order;
    - ``removed``: 1.x parameters 2.x no longer passes: one that receives another argument is a silent mix-up;
    - ``use``: the 2.x definition, as advice;
    - ``keywords``: the arguments 2.x passes by keyword;
    - ``rejected``: removed parameters reported even with a default: 2.x refuses them, or only the 1.x
      definition had them.
    """

    __slots__ = ("passes", "removed", "use", "keywords", "rejected")

    def __init__(self, passes: Tuple[str, ...], removed: Tuple[str, ...], use: str,
                 keywords: Tuple[str, ...] = (), rejected: Tuple[str, ...] = ()) -> None:
        self.passes, self.removed, self.use, self.keywords, self.rejected = passes, removed, use, keywords, rejected


FINETUNING = "BaseFinetuning"
"""The kind of class whose ``finetune_function`` changed: a subclass of Lightning's ``BaseFinetuning`` callback."""
_ONE_OPTIMIZER = "Lightning 2.x steps one optimizer under automatic optimization"
CHANGED_HOOK_SIGNATURES: Dict[str, Dict[str, HookCall]] = {
    # 2.0: multiple optimizers only with manual optimization (#16539)
    "training_step": {MODULE: HookCall(
        ("batch", "batch_idx"),
        ("optimizer_idx", "hiddens"),
        "set self.automatic_optimization = False in __init__, drop optimizer_idx and step each optimizer of "
        "self.optimizers() in training_step",
        rejected=("optimizer_idx",),  # RuntimeError in core/optimizer.py, whatever its default
    )},
    "optimizer_step": {MODULE: HookCall(
        ("epoch", "batch_idx", "optimizer", "optimizer_closure"),
        ("optimizer_idx", "on_tpu", "using_native_amp", "using_lbfgs"),
        "define optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure): "
        "2.x passes the closure fourth and nothing after it",
        rejected=("on_tpu", "using_native_amp", "using_lbfgs"),  # the 1.x signature: optimizer_idx gets the closure
    )},
    "optimizer_zero_grad": {MODULE: HookCall(
        ("epoch", "batch_idx", "optimizer"), ("optimizer_idx",),
        f"define optimizer_zero_grad(self, epoch, batch_idx, optimizer): {_ONE_OPTIMIZER}",
    )},
    "lr_scheduler_step": {MODULE: HookCall(
        ("scheduler", "metric"), ("optimizer_idx",),
        "define lr_scheduler_step(self, scheduler, metric): 2.x passes the metric second",
    )},
    "configure_gradient_clipping": {MODULE: HookCall(
        ("optimizer",), ("optimizer_idx",),
        "define configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None): "
        + _ONE_OPTIMIZER,
        keywords=("gradient_clip_val", "gradient_clip_algorithm"),
    )},
    "on_before_optimizer_step": {
        MODULE: HookCall(
            ("optimizer",), ("optimizer_idx",), f"define on_before_optimizer_step(self, optimizer): {_ONE_OPTIMIZER}"
        ),
        CALLBACK: HookCall(
            ("trainer", "pl_module", "optimizer"), ("opt_idx", "optimizer_idx"),
            f"define on_before_optimizer_step(self, trainer, pl_module, optimizer): {_ONE_OPTIMIZER}",
        ),
    },
    "backward": {MODULE: HookCall(
        ("loss",), ("optimizer", "optimizer_idx"),
        "define backward(self, loss, *args, **kwargs): 2.x passes only the loss",
    )},
    # 1.5-1.7: the training batch hooks lost dataloader_idx (#11016), the epoch-end hooks their outputs
    # (#7339, #16655)
    "on_train_batch_start": {
        MODULE: HookCall(
            ("batch", "batch_idx"), ("dataloader_idx",), "define on_train_batch_start(self, batch, batch_idx)"
        ),
        CALLBACK: HookCall(
            ("trainer", "pl_module", "batch", "batch_idx"), ("dataloader_idx",),
            "define on_train_batch_start(self, trainer, pl_module, batch, batch_idx)",
        ),
    },
    "on_train_batch_end": {
        MODULE: HookCall(
            ("outputs", "batch", "batch_idx"), ("dataloader_idx",),
            "define on_train_batch_end(self, outputs, batch, batch_idx)",
        ),
        CALLBACK: HookCall(
            ("trainer", "pl_module", "outputs", "batch", "batch_idx"), ("dataloader_idx",),
            "define on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx)",
        ),
    },
    "on_train_epoch_end": {
        MODULE: HookCall((), ("outputs",), "define on_train_epoch_end(self), keeping what training_step returns "
                         "in a list on self"),
        CALLBACK: HookCall(
            ("trainer", "pl_module"), ("outputs",),
            "define on_train_epoch_end(self, trainer, pl_module), keeping the outputs you need on pl_module",
        ),
    },
    "on_predict_epoch_end": {
        MODULE: HookCall((), ("outputs", "results"), "define on_predict_epoch_end(self) and read "
                         "self.trainer.predict_loop.predictions"),
        CALLBACK: HookCall(
            ("trainer", "pl_module"), ("outputs", "results"),
            "define on_predict_epoch_end(self, trainer, pl_module) and read trainer.predict_loop.predictions",
        ),
    },
    # 1.4: callbacks' checkpoint hooks receive the trainer and the module (#7253)
    "on_load_checkpoint": {CALLBACK: HookCall(
        ("trainer", "pl_module", "checkpoint"), (),
        "define on_load_checkpoint(self, trainer, pl_module, checkpoint), or restore the state in load_state_dict",
    )},
    "on_save_checkpoint": {CALLBACK: HookCall(
        ("trainer", "pl_module", "checkpoint"), (),
        "define on_save_checkpoint(self, trainer, pl_module, checkpoint), or return the state from state_dict",
    )},
    # 2.0: fine-tuning callbacks no longer get the optimizer's index (#16539)
    "finetune_function": {FINETUNING: HookCall(
        ("pl_module", "epoch", "optimizer"), ("opt_idx", "optimizer_idx"),
        f"define finetune_function(self, pl_module, epoch, optimizer): {_ONE_OPTIMIZER}",
    )},
}
"""Hooks Lightning 2.x still calls, with fewer arguments than 1.x: hook -> the kind of class -> how 2.x calls it."""

TRAINING_STEP_MANUAL = (
    "drop optimizer_idx: Lightning 2.x refuses to train a training_step that takes it, also under manual "
    "optimization"
)
TRAINING_STEP_HIDDENS = (
    "truncated backpropagation through time was removed: drop hiddens and carry the hidden state yourself, "
    "with manual optimization"
)

DATALOADER_ITER_STEPS = frozenset({"training_step", "validation_step", "test_step", "predict_step"})
"""Steps that 2.x calls with the iterator alone when they take ``dataloader_iter`` (#18390)."""
DATALOADER_ITER_USE = (
    "define {hook}(self, dataloader_iter): 2.x passes only the iterator, whose next() returns "
    "(batch, batch_idx, dataloader_idx)"
)


def hook_signature_problem(
    call: HookCall, positional: Tuple[str, ...], required: int, varargs: bool
) -> Tuple[str, ...]:
    """The parameters of a definition that 2.x cannot fill or fills with the wrong argument; () when it is fine.

    ``positional``: the definition's positional parameter names after ``self``; ``required``: how many of them
    have no default; ``varargs``: it takes ``*args``.
    """
    passed = len(call.passes)
    removed = tuple(name for name in positional if name in call.removed)
    if removed:  # only a 1.x parameter name says the definition is the 1.x one (not a helper with its own)
        missing = tuple(name for name in positional[passed:required] if name not in call.keywords)
        mixed_up = tuple(name for name in positional[:passed] if name in call.removed)
        if missing or mixed_up or any(name in call.rejected for name in positional):
            return removed
        return ()
    if not call.removed and len(positional) < passed and not varargs:
        return positional  # the 1.x checkpoint hooks of callbacks: 2.x passes more than they take
    return ()


# -- LA403: import paths -------------------------------------------------------------------------

class Moved(str):
    """Advice for a removed module or name whose names live on unchanged in another module: ``--fix`` applies it.

    The string is the advice, as for every other entry; ``to`` is the module the names moved to (relative to
    the namespace, ``""`` for the package itself), ``names`` the names it still has there.
    """

    to: str
    names: FrozenSet[str]

    def __new__(cls, advice: str, to: str, names: Iterable[str]) -> "Moved":
        moved = super().__new__(cls, advice)
        moved.to, moved.names = to, frozenset(names)
        return moved


def _moved(to: str, *names: str, advice: Optional[str] = None) -> Moved:
    """``import NAME from {ns}.TO`` (the first name is the one the advice names)."""
    where = "{ns}" + (f".{to}" if to else "")
    return Moved(advice or f"import {names[0]} from {where}", to, names)


_FSDP = 'FairScale support was removed: use FSDPStrategy from {ns}.strategies (strategy="fsdp")'
_APEX = 'apex support was removed: pass precision="16-mixed" (native torch.amp)'
_NO_LOOPS = "custom Trainer loops are no longer supported: write the loop with Fabric from {fabric}"
_NAN_CHECKS = "it was removed: pass Trainer(detect_anomaly=True) to find NaN values"
_IPU = "IPU support moved to the lightning-graphcore package (LightningIPUModule was removed)"
_FAIRSCALE_PRECISION = 'FairScale support was removed: use FSDPPrecision from {ns}.plugins (strategy="fsdp")'
_COLOSSALAI = "ColossalAI support moved to the lightning-colossalai package"
_DEVICE_DTYPE = "DeviceDtypeModuleMixin became private: derive from LightningModule, which moves itself"
_ARGPARSE = "use LightningCLI (from {ns}.cli import LightningCLI)"
_ENUMS = "it was removed: check isinstance(trainer.strategy, ...) or isinstance(trainer.accelerator, ...) instead"
_ALL_GATHER = "use torch.distributed.nn.functional.all_gather, which passes gradients back"

REMOVED_MODULES: Dict[str, str] = {
    "core.lightning": _moved("", "LightningModule"),
    "core.memory": _moved("utilities.model_summary", "ModelSummary", "LayerSummary"),
    "core.decorators": "remove auto_move_data: Lightning moves batches itself; use trainer.predict for inference",
    "metrics": "metrics moved to the torchmetrics package: import from torchmetrics{tail}",
    "callbacks.base": _moved("callbacks", "Callback"),
    "callbacks.progress.base": "import ProgressBar (the renamed ProgressBarBase) from {ns}.callbacks",
    "callbacks.gpu_stats_monitor": "import DeviceStatsMonitor from {ns}.callbacks",
    "callbacks.xla_stats_monitor": "import DeviceStatsMonitor from {ns}.callbacks",
    "callbacks.swa": _moved("callbacks", "StochasticWeightAveraging"),
    "callbacks.quantization": "QuantizationAwareTraining was removed: use torch.ao.quantization directly",
    "loggers.base": "import Logger (the renamed LightningLoggerBase) from {ns}.loggers",
    "loggers.test_tube": "TestTubeLogger was removed: import TensorBoardLogger from {ns}.loggers",
    "utilities.cli": _moved("cli", "LightningCLI", "SaveConfigCallback", "LightningArgumentParser"),
    "profiler": _moved(
        "profilers", "SimpleProfiler", "AdvancedProfiler", "PyTorchProfiler", "PassThroughProfiler", "XLAProfiler",
        advice="import SimpleProfiler and the other profilers from {ns}.profilers",
    ),
    "lite": "LightningLite became Fabric: import Fabric from {fabric}",
    "loops.base": _NO_LOOPS,
    "plugins.training_type": "training type plugins became strategies: import DDPStrategy and the others from "
    "{ns}.strategies",
    "accelerators.gpu": "import CUDAAccelerator from {ns}.accelerators",
    "trainer.supporters": _moved("utilities", "CombinedLoader"),
    "utilities.supporters": _moved("utilities", "CombinedLoader"),
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
    "utilities.distributed": _moved(
        "utilities.rank_zero", "rank_zero_only", "rank_zero_warn", "rank_zero_info", "rank_zero_debug",
        "rank_zero_deprecation",
        advice="import rank_zero_only and the other rank_zero helpers from {ns}.utilities.rank_zero",
    ),
    "utilities.apply_func": "import apply_to_collection from lightning_utilities and move_data_to_device from "
    "{fabric}.utilities",
    # 1.5 to 2.0: the Trainer's mixins (#8609, #8679, #10322, #14401, #14887, #14888)
    "trainer.training_tricks": "TrainerTrainingTricksMixin was removed: pass Trainer(detect_anomaly=True) to find "
    "NaN values",
    "trainer.logging": "TrainerLoggingMixin was removed: import convert_tensors_to_scalars from "
    "{fabric}.utilities.apply_func",
    "trainer.model_hooks": "TrainerModelHooksMixin was removed: import is_overridden from {ns}.utilities.model_helpers",
    "trainer.callback_hook": "TrainerCallbackHookMixin was removed: subclass the Trainer itself",
    "trainer.optimizers": "TrainerOptimizersMixin was removed: the Trainer calls configure_optimizers itself",
    "trainer.data_loading": "TrainerDataLoadingMixin was removed: subclass the Trainer itself",
    # 1.6 to 2.0: utilities and integrations (#13549, #16038, #14830, #16400, #16757, #16386, #16404, #16412,
    # #16438, #14511, #16439, #16682, #16681, #16437, #16726)
    "distributed": "LightningDistributed was removed: use trainer.strategy.broadcast",
    "utilities.meta": 'init_meta_context was removed: build large models in configure_model with strategy="fsdp" '
    'or strategy="deepspeed_stage_3"',
    "strategies.ipu": _IPU,
    "accelerators.ipu": _IPU,
    "plugins.precision.fully_sharded_native_amp": _FAIRSCALE_PRECISION,
    "plugins.precision.sharded_native_amp": _FAIRSCALE_PRECISION,
    "strategies.colossalai": _COLOSSALAI,
    "plugins.precision.colossalai": _COLOSSALAI,
    "overrides.base": "unwrap_lightning_module was removed: read trainer.lightning_module (the strategy unwraps "
    "the model itself)",
    "overrides.data_parallel": 'DataParallel support was removed: use DDPStrategy from {ns}.strategies '
    '(strategy="ddp")',
    "utilities.xla_device": "import XLAAccelerator from {ns}.accelerators and ask XLAAccelerator.is_available",
    "utilities.device_parser": "its functions became private: pass devices= to the Trainer, which parses them",
    "utilities.cloud_io": "import get_filesystem from {fabric}.utilities.cloud_io; load and save checkpoints with "
    "torch.load and torch.save",
    "core.mixins.device_dtype_mixin": _DEVICE_DTYPE,
    "utilities.optimizer": "it was removed: the Trainer moves optimizer state to the device itself",
    "utilities.finite_checks": _NAN_CHECKS,
    "utilities.metrics": "metrics_to_scalars was removed: import convert_tensors_to_scalars from "
    "{fabric}.utilities.apply_func",
    "strategies.utils": "on_colab_kaggle was removed: read the COLAB_GPU or KAGGLE_URL_BASE environment variable "
    "yourself",
    "loops.dataloader": _NO_LOOPS,
    "loops.epoch": _NO_LOOPS,
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
    ("utilities.seed", "seed_everything"): _moved("", "seed_everything"),
    ("utilities.warnings", "rank_zero_warn"): _moved("utilities.rank_zero", "rank_zero_warn"),
    ("utilities.warnings", "rank_zero_deprecation"): _moved("utilities.rank_zero", "rank_zero_deprecation"),
    ("utilities.warnings", "LightningDeprecationWarning"): _moved("utilities.rank_zero", "LightningDeprecationWarning"),
    ("utilities.enums", "DistributedType"): _ENUMS,
    ("utilities.enums", "DeviceType"): _ENUMS,
    ("utilities", "DistributedType"): _ENUMS,
    ("utilities", "DeviceType"): _ENUMS,
    ("callbacks.device_stats_monitor", "prefix_metric_keys"): "it was removed: add the prefix to the metric keys "
    "yourself",
    ("strategies.deepspeed", "LightningDeepSpeedModule"): 'it was removed: use DeepSpeedStrategy from {ns}.strategies '
    '(strategy="deepspeed")',
    ("strategies", "IPUStrategy"): _IPU,
    ("accelerators", "IPUAccelerator"): _IPU,
    ("strategies", "ColossalAIStrategy"): _COLOSSALAI,
    ("plugins", "FullyShardedNativeMixedPrecisionPlugin"): _FAIRSCALE_PRECISION,
    ("plugins", "ShardedNativeMixedPrecisionPlugin"): _FAIRSCALE_PRECISION,
    ("plugins.precision", "FullyShardedNativeMixedPrecisionPlugin"): _FAIRSCALE_PRECISION,
    ("plugins.precision", "ShardedNativeMixedPrecisionPlugin"): _FAIRSCALE_PRECISION,
    ("utilities.memory", "get_gpu_memory_map"): "import get_nvidia_gpu_stats from {ns}.accelerators.cuda "
    "(it reports one device)",
    ("utilities.memory", "get_model_size_mb"): "it was removed: read ModelSummary(model).model_size "
    "(from {ns}.utilities.model_summary import ModelSummary)",
    ("overrides.distributed", "LightningDistributedModule"): 'it was removed: use DDPStrategy from {ns}.strategies '
    '(strategy="ddp"), which wraps the model itself',
    ("overrides.distributed", "IndexBatchSamplerWrapper"): "it became private: a BasePredictionWriter callback's "
    "write_on_batch_end receives the batch indices",
    ("core.mixins", "DeviceDtypeModuleMixin"): _DEVICE_DTYPE,
    ("core.saving", "ModelIO"): "it was removed: derive from LightningModule, whose class method load_from_checkpoint "
    "it was",
    ("utilities.parsing", "flatten_dict"): "it was removed: flatten the dict yourself",
    ("utilities.parsing", "str_to_bool"): _ARGPARSE + ", or convert the string yourself",
    ("utilities.parsing", "str_to_bool_or_int"): _ARGPARSE + ", or convert the string yourself",
    ("utilities.parsing", "str_to_bool_or_str"): _ARGPARSE + ", or convert the string yourself",
    ("utilities.argparse", "from_argparse_args"): _ARGPARSE,
    ("utilities.argparse", "parse_argparser"): _ARGPARSE,
    ("utilities.argparse", "parse_env_variables"): _ARGPARSE,
    ("utilities.argparse", "get_init_arguments_and_types"): _ARGPARSE,
    ("utilities.argparse", "add_argparse_args"): _ARGPARSE,
    ("utilities", "AllGatherGrad"): _ALL_GATHER,
    ("utilities.distributed", "AllGatherGrad"): _ALL_GATHER,  # a name with its own advice in a removed module
    ("loops", "Loop"): _NO_LOOPS,
    ("loops", "DataLoaderLoop"): _NO_LOOPS,
    ("loops", "EvaluationEpochLoop"): _NO_LOOPS,
    ("loops", "PredictionEpochLoop"): _NO_LOOPS,
}
"""Names that no longer exist in a module that still does: ``(module, name)``; or, with advice of their own,
in a removed module (``utilities.distributed.AllGatherGrad``)."""


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
    split = split_namespace(module)
    template = REMOVED_NAMES.get((split[1], name)) if split is not None and name is not None else None
    if template is not None:  # also a name with advice of its own in a removed module
        return f"{module}.{name}", _format(template, split[0], "")
    found = removed_module(module)
    if found is not None:
        namespace, prefix, tail = found
        return module, _format(REMOVED_MODULES[prefix], namespace, tail)
    if split is None or name is None:
        return None
    found = removed_module(f"{module}.{name}")  # ``from pytorch_lightning.core import lightning``
    if found is not None:
        namespace, prefix, tail = found
        return f"{module}.{name}", _format(REMOVED_MODULES[prefix], namespace, tail)
    return None


def moved_import(module: str, name: str) -> Optional[str]:
    """Where ``from module import name`` imports from in 2.x, when the name moved there unchanged; else None."""
    found = removed_module(module)
    if found is not None:
        namespace, prefix, tail = found
        entry: object = REMOVED_MODULES[prefix] if not tail else None
    else:
        split = split_namespace(module)
        if split is None:
            return None
        namespace, relative = split
        entry = REMOVED_NAMES.get((relative, name))
    if isinstance(entry, Moved) and name in entry.names:
        return namespace + (f".{entry.to}" if entry.to else "")
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


# -- LA405: Trainer methods, attributes and method arguments ----------------------------------------

_CLI = "use LightningCLI (from {ns}.cli import LightningCLI)"
_DEVICES = "use trainer.num_devices"
_PRECISION = 'read trainer.precision instead ("16-mixed" and "bf16-mixed" are native torch.amp)'
_CKPT_PATH = "use trainer.ckpt_path"

REMOVED_TRAINER_MEMBERS: Dict[str, str] = {
    # 2.0: argparse support (#16708)
    "add_argparse_args": _CLI + ", or add the Trainer options you need to the parser yourself",
    "from_argparse_args": (
        _CLI + ", or pass the arguments yourself: Trainer(max_epochs=args.max_epochs, ...)"
    ),
    "parse_argparser": _CLI + ", or call parser.parse_args() yourself",
    "default_attributes": _CLI,
    "match_env_arguments": _CLI,
    "get_init_arguments_and_types": _CLI,
    # 2.0: the tuner is no longer part of the Trainer (#16462)
    "tune": "run Tuner(trainer).lr_find(model) or Tuner(trainer).scale_batch_size(model) "
    "(from {ns}.tuner import Tuner)",
    "tuner": "create Tuner(trainer) (from {ns}.tuner import Tuner) and call its lr_find or scale_batch_size",
    # 1.6 to 2.0: loop and data plumbing
    "run_stage": "call trainer.fit, trainer.validate, trainer.test or trainer.predict",
    "reset_train_val_dataloaders": "call trainer.fit_loop.setup_data()",
    "reset_train_dataloader": "call trainer.fit_loop.setup_data()",
    "reset_val_dataloader": "call trainer.fit_loop.epoch_loop.val_loop.setup_data() (trainer.validate_loop in "
    "trainer.validate)",
    "reset_test_dataloader": "call trainer.test_loop.setup_data()",
    "reset_predict_dataloader": "call trainer.predict_loop.setup_data()",
    "call_hook": "call the hook on the LightningModule or the callback yourself",
    "get_deprecated_arg_names": "remove the call: Lightning 2.x has no deprecated Trainer arguments left",
    "train_loop": "use trainer.fit_loop",
    "running_sanity_check": "use trainer.sanity_checking",
    "disable_validation": "use not trainer.enable_validation",
    "progress_bar_dict": "use trainer.progress_bar_callback.get_metrics(trainer, pl_module)",
    "lr_schedulers": "use trainer.lr_scheduler_configs (dataclasses: config.scheduler, not config[\"scheduler\"])",
    "weights_save_path": "use trainer.checkpoint_callback.dirpath (or trainer.default_root_dir)",
    "truncated_bptt_steps": "truncated backpropagation through time was removed: split the sequence in "
    "training_step with manual optimization",
    "optimizer_frequencies": "optimizer frequencies were removed: step the optimizers yourself with manual "
    "optimization (self.automatic_optimization = False)",
    "lightning_optimizers": "use trainer.optimizers",
    "checkpoint_connector": "it became private: save with trainer.save_checkpoint(filepath) and resume with "
    "trainer.fit(model, ckpt_path=...)",
    "accelerator_connector": "it became private: read trainer.strategy, trainer.accelerator and trainer.num_nodes",
    # 1.7 to 2.0: devices and precision (#12388, #12436, #12384, #12386, #12437, #12072, #12262, #16039)
    "training_type_plugin": "use trainer.strategy",
    "num_processes": _DEVICES,
    "gpus": _DEVICES,
    "num_gpus": _DEVICES,
    "ipus": _DEVICES,
    "tpu_cores": _DEVICES,
    "data_parallel_device_ids": "use trainer.device_ids",
    "root_gpu": "use trainer.strategy.root_device.index",
    "data_parallel": "use isinstance(trainer.strategy, ParallelStrategy) "
    "(from {ns}.strategies import ParallelStrategy)",
    "use_amp": _PRECISION,
    "using_native_amp": _PRECISION,
    "amp_backend": _PRECISION,
    "amp_level": _PRECISION,
    # 1.7 and 1.8: checkpoints and evaluation (#11696, #10931, #11068, #16759)
    "validated_ckpt_path": _CKPT_PATH,
    "tested_ckpt_path": _CKPT_PATH,
    "predicted_ckpt_path": _CKPT_PATH,
    "verbose_evaluate": "pass verbose= to trainer.validate or trainer.test",
    "should_rank_save_checkpoint": "use trainer.is_global_zero",
    "prediction_writer_callbacks": "use [c for c in trainer.callbacks if isinstance(c, BasePredictionWriter)]",
}
"""Trainer methods and attributes that no longer exist: name -> advice (``{ns}`` is the user's namespace)."""

REMOVED_TRAINER_METHOD_ARGUMENTS: Dict[Tuple[str, str], str] = {
    # 1.4 to 1.6: the loaders of each entry point took one name (#7431)
    ("fit", "train_dataloader"): "pass train_dataloaders={value}",
    ("validate", "val_dataloaders"): "pass dataloaders={value}",
    ("test", "test_dataloaders"): "pass dataloaders={value}",
}
"""Keywords of Trainer methods that no longer exist: (method, keyword) -> advice (``{value}``: the value passed)."""

TRAINER_SUBCLASSES: Dict[str, str] = {
    "flash.Trainer": "pytorch_lightning",
    "flash.core.trainer.Trainer": "pytorch_lightning",
}
"""Third-party subclasses of the Lightning Trainer that pass their keywords on to it, and their namespace."""


def trainer_member_replacement(name: str, namespace: str) -> str:
    return REMOVED_TRAINER_MEMBERS[name].format(ns=namespace, fabric=fabric_of(namespace))


_PREDICTION_WRITER = (
    "return the predictions in predict_step and write them with a BasePredictionWriter callback "
    "(from {ns}.callbacks import BasePredictionWriter)"
)
_DATA_LIFECYCLE = "it was removed: keep a flag of your own on self if prepare_data or setup must not run twice"
_TRANSFORMS = "it was removed: apply the transforms in the datasets you build in setup"
_SUMMARY = "(from {ns}.utilities.model_summary import ModelSummary)"
_DIMS = "it was removed: set self.dims in __init__ yourself, or take the shape of a sample of the dataset"

REMOVED_LIGHTNING_MEMBERS: Dict[str, Dict[str, str]] = {
    # 2.0: argparse support (#16708)
    "add_argparse_args": {DATAMODULE: _CLI + ", or add the options you need to the parser yourself"},
    "from_argparse_args": {DATAMODULE: _CLI + ", or pass the arguments it needs to the class yourself"},
    "parse_argparser": {DATAMODULE: _CLI + ", or call parser.parse_args() yourself"},
    "get_init_arguments_and_types": {DATAMODULE: _CLI},
    # 1.4 to 1.6 (#7066, #7168, #7657, #8343)
    "write_predictions": {MODULE: _PREDICTION_WRITER},
    "write_predictions_dict": {MODULE: _PREDICTION_WRITER},
    "datamodule": {MODULE: "use {owner}.trainer.datamodule"},
    "grad_norm": {MODULE: "log grad_norm(self, norm_type=2) in on_before_optimizer_step "
                          "(from {ns}.utilities import grad_norm)"},
    "loaded_optimizer_states_dict": {MODULE: 'read checkpoint["optimizer_states"] in on_load_checkpoint'},
    "summarize": {MODULE: "print ModelSummary({owner}) " + _SUMMARY},
    "model_size": {MODULE: "read ModelSummary({owner}).model_size " + _SUMMARY},
    "has_prepared_data": {DATAMODULE: _DATA_LIFECYCLE},
    "has_setup_fit": {DATAMODULE: _DATA_LIFECYCLE},
    "has_setup_validate": {DATAMODULE: _DATA_LIFECYCLE},
    "has_setup_test": {DATAMODULE: _DATA_LIFECYCLE},
    "has_setup_predict": {DATAMODULE: _DATA_LIFECYCLE},
    "has_teardown_fit": {DATAMODULE: _DATA_LIFECYCLE},
    "has_teardown_validate": {DATAMODULE: _DATA_LIFECYCLE},
    "has_teardown_test": {DATAMODULE: _DATA_LIFECYCLE},
    "has_teardown_predict": {DATAMODULE: _DATA_LIFECYCLE},
    "train_transforms": {DATAMODULE: _TRANSFORMS},
    "val_transforms": {DATAMODULE: _TRANSFORMS},
    "test_transforms": {DATAMODULE: _TRANSFORMS},
    "dims": {DATAMODULE: _DIMS},
    "size": {DATAMODULE: _DIMS},
    # 1.8 to 2.0 (#14832, #16203, #16172)
    "use_amp": {MODULE: _PRECISION.replace("trainer.", "{owner}.trainer.")},
    "precision": {MODULE: "read {owner}.trainer.precision"},
    "truncated_bptt_steps": {MODULE: "truncated backpropagation through time was removed: split the sequence in "
                                     "training_step with manual optimization (self.automatic_optimization = False)"},
}
"""LightningModule and LightningDataModule methods and attributes that no longer exist: name -> kind -> advice
(``{owner}``: the receiver as written, ``self`` or ``model``)."""

TRUNCATED_BPTT = "truncated_bptt_steps"
"""Assigned in ``__init__`` under automatic optimization, 1.x split the batch itself; 2.x ignores it."""

REMOVED_CALL_ARGUMENTS: Dict[Tuple[str, str], str] = {
    # 1.3 to 1.5 (#6146, #6621, #7891, #7918)
    ("ModelCheckpoint", "period"): "pass every_n_epochs={value}",
    ("ModelCheckpoint", "every_n_val_epochs"): "pass every_n_epochs={value}",
    ("SimpleProfiler", "output_filename"): "pass dirpath= and filename= (the file's folder and name)",
    ("AdvancedProfiler", "output_filename"): "pass dirpath= and filename= (the file's folder and name)",
    ("PyTorchProfiler", "output_filename"): "pass dirpath= and filename= (the file's folder and name)",
    ("is_overridden", "model"): "pass instance={value}",
    # 2.0: LightningCLI (#16380)
    ("LightningCLI", "save_config_filename"): 'pass save_config_kwargs={{"config_filename": {value}}}',
    ("LightningCLI", "save_config_overwrite"): 'pass save_config_kwargs={{"overwrite": {value}}}',
    ("LightningCLI", "save_config_multifile"): 'pass save_config_kwargs={{"multifile": {value}}}',
    ("LightningCLI", "description"): 'pass parser_kwargs={{"description": {value}}}',
    ("LightningCLI", "env_prefix"): 'pass parser_kwargs={{"env_prefix": {value}}}',
    ("LightningCLI", "env_parse"): 'pass parser_kwargs={{"default_env": {value}}}',
}
"""Keywords of Lightning classes and functions other than the Trainer that no longer exist:
(class or function name, keyword) -> advice (``{value}``: the value passed)."""

REMOVED_LOG_ARGUMENTS: Dict[str, str] = {
    "sync_dist_op": "pass reduce_fx={value}",  # 1.5 (#7891)
}
"""Keywords of ``LightningModule.log`` / ``log_dict`` that no longer exist: keyword -> advice."""

REQUIRED_ARGUMENTS: Dict[str, Tuple[str, str]] = {
    "EarlyStopping": (
        "monitor",
        'pass monitor=, the name of a metric you log (e.g. monitor="val_loss"): 1.x watched "early_stop_on" by default',
    ),
}
"""Lightning classes whose first argument had a default in 1.x and has none in 2.x: class -> (argument, advice)."""
