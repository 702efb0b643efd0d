"""The rule catalog: every LA rule is defined here once.

The flake8 plugin and the runtime ``AdvisorCallback`` both render their messages
through :meth:`Rule.render`, so a mistake reads the same in the editor and in the
training log. The long-form documentation of each rule lives in
``checks/<CODE>-<name>/README.md``; tests keep the two in step.

This module must stay import-light: flake8 imports it on every run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class Rule:
    """One rule: its code, its name, and the words both front ends use."""

    code: str
    name: str
    summary: str
    message: str
    """Template for the one-line message, ``str.format`` fields in braces."""
    why: str
    fix: str
    static: bool = True
    runtime: bool = True

    @property
    def folder(self) -> str:
        """The rule's folder under ``checks/``."""
        return f"{self.code}-{self.name}"

    def render(self, **fields: object) -> str:
        """The full message, code first: ``"LA101 ..."``."""
        return f"{self.code} {self.message.format(**fields)}"


_RULES: Tuple[Rule, ...] = (
    Rule(
        code="LA101",
        name="eval-loader-shuffles",
        summary="evaluation DataLoader shuffles its data",
        message="{split} DataLoader shuffles its data ({how}); use shuffle=False and a sequential sampler",
        why=(
            "Validation, test and prediction data should be read in a fixed order: shuffled evaluation "
            "makes per-batch logs, saved predictions and any order-dependent metric differ between "
            "epochs and runs, and a random sampler with replacement even changes which samples are scored."
        ),
        fix="Pass shuffle=False (the default) and no RandomSampler; under DDP use DistributedSampler(shuffle=False).",
    ),
    Rule(
        code="LA102",
        name="too-few-workers",
        summary="DataLoader with no or too few worker processes",
        message="DataLoader has num_workers={workers}, too few to keep the model fed; pass num_workers={suggested}",
        why=(
            "With num_workers=0 every batch is loaded and transformed in the training process, so the "
            "accelerator waits for data on every step; one worker rarely keeps up either."
        ),
        fix="Pass num_workers (e.g. min(os.cpu_count(), 8)) and persistent_workers=True for loaders used every epoch.",
    ),
    Rule(
        code="LA103",
        name="training-waits-on-data",
        summary="the training loop measurably waits on data",
        message=(
            "training waits on data for {share:.0%} of each step (mean {wait_ms:.1f} ms per batch) with "
            "num_workers={workers}, pin_memory={pin_memory}; raise num_workers or make loading cheaper"
        ),
        why=(
            "Time spent waiting for the next batch is time the model does not train: the run is "
            "input-bound, and a faster accelerator would not make it faster."
        ),
        fix="Raise num_workers, set pin_memory=True on GPU, cache decoded data, or move heavy transforms to the GPU.",
        static=False,
    ),
    Rule(
        code="LA201",
        name="manual-cuda-call",
        summary="manual .cuda() in Lightning code",
        message=(
            "manual .cuda() call in Lightning code; Lightning moves models and batches itself: "
            "use self.device or type_as"
        ),
        why=(
            "The Trainer decides where the model runs. A leftover .cuda() breaks CPU, MPS and TPU runs, "
            "puts every DDP process on GPU 0, and fights the Trainer's own device placement."
        ),
        fix=(
            "Delete .cuda() on models and batches; create new tensors with device=self.device, "
            "x.type_as(y) or register_buffer."
        ),
    ),
    Rule(
        code="LA202",
        name="hard-coded-cuda-device",
        summary="hard-coded CUDA device in Lightning code",
        message="hard-coded device {device!r} in Lightning code; use self.device, x.device or type_as",
        why=(
            "A literal 'cuda' device pins tensors to one GPU whatever accelerator and devices the Trainer "
            "was given: the code fails on CPU and MPS, and every DDP process piles onto cuda:0."
        ),
        fix="Use .to(self.device), device=x.device, x.type_as(y) or register_buffer for module state.",
    ),
    Rule(
        code="LA301",
        name="eval-without-eval-mode",
        summary="evaluation without model.eval()",
        message="evaluation loop runs {model} in training mode; call {model}.eval() before it (and .train() after)",
        why=(
            "In training mode dropout drops activations and batch norm uses and updates batch statistics, "
            "so the evaluated metrics are wrong and the running statistics are corrupted by evaluation data."
        ),
        fix=(
            "Call model.eval() before the loop and model.train() afterwards, "
            "or evaluate in Lightning's validation_step."
        ),
    ),
    Rule(
        code="LA302",
        name="eval-without-no-grad",
        summary="evaluation without torch.no_grad() / torch.inference_mode()",
        message="evaluation loop runs {model} with autograd on; wrap it in torch.no_grad() or torch.inference_mode()",
        why=(
            "With autograd on, every forward pass records a graph: evaluation uses far more memory and time "
            "than needed, and outputs kept for metrics hold on to the whole graph."
        ),
        fix="Wrap the loop in `with torch.no_grad():` (or torch.inference_mode()), or decorate the function with it.",
    ),
    Rule(
        code="LA401",
        name="removed-trainer-argument",
        summary="Trainer argument that Lightning 2.x removed",
        message="Trainer argument {argument} no longer exists in Lightning 2.x; {replacement}",
        why=(
            "Lightning 2.x has none of the 1.x Trainer arguments it deprecated (gpus, auto_lr_find, "
            "resume_from_checkpoint, ...): the Trainer raises TypeError when the script runs, so code "
            "copied from a 1.x tutorial fails only then."
        ),
        fix=(
            "Pass the 2.x replacement the message names: accelerator= and devices=, the Tuner, "
            "trainer.fit(ckpt_path=...), or a callback."
        ),
        runtime=False,
    ),
    Rule(
        code="LA402",
        name="removed-hook",
        summary="hook that Lightning 2.x removed",
        message="{kind} hook {hook} no longer exists in Lightning 2.x; {replacement}",
        why=(
            "Lightning 2.x never calls the hooks it removed: the method silently does nothing "
            "(on_epoch_end, training_step_end, ...), or the Trainer refuses to run the module "
            "(training_epoch_end, validation_epoch_end, test_epoch_end)."
        ),
        fix=(
            "Move the code to the 2.x hook the message names; keep step outputs in a list on self "
            "instead of receiving them in *_epoch_end."
        ),
        runtime=False,
    ),
    Rule(
        code="LA403",
        name="removed-import",
        summary="import of a Lightning module or name that 2.x removed",
        message="{path} no longer exists in Lightning 2.x; {replacement}",
        why=(
            "Modules and names that Lightning 1.x deprecated are gone in 2.x: the import fails as soon "
            "as the file is loaded. Most moved to a new path or to another package (torchmetrics, Fabric)."
        ),
        fix="Import from the current path the message names.",
        runtime=False,
    ),
    Rule(
        code="LA404",
        name="step-returns-log-dict",
        summary="step returns a 'log' / 'progress_bar' dict that nothing logs",
        message=(
            "{step} returns a {keys} dict, which Lightning 2.x ignores: nothing gets logged; "
            "call self.log(...) or self.log_dict(...) instead"
        ),
        why=(
            "Lightning 2.x passes a step's returned dict along untouched: its 'log' and 'progress_bar' "
            "entries reach neither the logger nor the progress bar, so the run trains but its metrics "
            "are never recorded."
        ),
        fix="Call self.log('train_loss', loss, prog_bar=True) or self.log_dict(metrics) in the step; return the loss.",
    ),
)

RULES: Dict[str, Rule] = {rule.code: rule for rule in _RULES}


def rule(code: str) -> Rule:
    """The catalog entry for ``code``; ``KeyError`` names unknown codes."""
    try:
        return RULES[code]
    except KeyError:
        raise KeyError(f"unknown lightning-advisor rule {code!r}; known: {', '.join(RULES)}") from None
