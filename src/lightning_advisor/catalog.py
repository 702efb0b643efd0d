"""The rule catalog: every LA rule is defined here once.

The flake8 plugin and the runtime ``AdvisorCallback`` both render their messages
through :meth:`Rule.render`, so a mistake reads the same in the editor and in the
training log. Everything else about a rule (what it does, why it is bad, the fix,
when it stays quiet) is prose in its page, ``checks/<CODE>-<name>/README.md``, whose
header :meth:`Rule.page_header` renders from this entry; tests keep the two in step.

This module must stay import-light: flake8 imports it on every run.
"""
from __future__ import annotations

from typing import Dict, Tuple


class Rule:
    """One rule: its code, its name, and the words both front ends use.

    ``message`` is the template of the one-line message, ``str.format`` fields in braces.
    """

    __slots__ = ("code", "name", "summary", "message", "static", "runtime")

    def __init__(self, code: str, name: str, summary: str, message: str,
                 static: bool = True, runtime: bool = True) -> None:
        self.code, self.name, self.summary, self.message = code, name, summary, message
        self.static, self.runtime = static, runtime

    def __repr__(self) -> str:
        return f"Rule({self.code!r}, {self.name!r})"

    @property
    def folder(self) -> str:
        """The rule's folder under ``checks/``."""
        return f"{self.code}-{self.name}"

    @property
    def checked_by(self) -> str:
        """``"static and runtime"``, ``"static"`` or ``"runtime"``."""
        return " and ".join(side for side, on in (("static", self.static), ("runtime", self.runtime)) if on)

    def page_header(self) -> str:
        """The first lines of the rule's page: title, summary, where it is checked, the message template."""
        summary = self.summary[:1].upper() + self.summary[1:]
        return (
            f"# {self.code} {self.name}\n\n{summary}. Checked: {self.checked_by}.\n\n"
            f"Message: `{self.code} {self.message}`\n"
        )

    def render(self, **fields: object) -> str:
        """The full message, code first: ``"LA101 ..."``."""
        return f"{self.code} {self.message.format(**fields)}"


_RULES: Tuple[Rule, ...] = (
    Rule(
        code="LA101",
        name="eval-loader-shuffles",
        summary="evaluation DataLoader shuffles its data",
        message="{split} DataLoader shuffles its data ({how}); use shuffle=False and a sequential sampler",
    ),
    Rule(
        code="LA102",
        name="too-few-workers",
        summary="DataLoader with no or too few worker processes",
        message="{loader} has num_workers={workers}, too few to keep the model fed; pass num_workers={suggested}",
    ),
    Rule(
        code="LA103",
        name="training-waits-on-data",
        summary="the training loop measurably waits on data",
        message=(
            "training waits on data for {share:.0%} of each step (mean {wait_ms:.1f} ms per batch) with "
            "num_workers={workers}, pin_memory={pin_memory}; raise num_workers or make loading cheaper"
        ),
        static=False,
    ),
    Rule(
        code="LA104",
        name="eval-data-random-augmentation",
        summary="evaluation data built with random augmentation",
        message=(
            "{split} data is built with random augmentation ({transform}); use deterministic transforms "
            "(Resize, CenterCrop, ToTensor, Normalize) for evaluation"
        ),
    ),
    Rule(
        code="LA201",
        name="manual-cuda-call",
        summary="manual .cuda() in Lightning code",
        message=(
            "manual .cuda() call in Lightning code; Lightning moves models and batches itself: "
            "use self.device or type_as"
        ),
    ),
    Rule(
        code="LA202",
        name="hard-coded-cuda-device",
        summary="hard-coded CUDA device in Lightning code",
        message="hard-coded device {device!r} in Lightning code; use self.device, x.device or type_as",
    ),
    Rule(
        code="LA301",
        name="eval-without-eval-mode",
        summary="evaluation without model.eval()",
        message="evaluation loop runs {model} in training mode; call {model}.eval() before it (and .train() after)",
    ),
    Rule(
        code="LA302",
        name="eval-without-no-grad",
        summary="evaluation without torch.no_grad() / torch.inference_mode()",
        message="evaluation loop runs {model} with autograd on; wrap it in torch.no_grad() or torch.inference_mode()",
    ),
    Rule(
        code="LA303",
        name="functional-dropout-always-on",
        summary="functional dropout without training=, on in evaluation too",
        message=(
            "{function}() without training= keeps dropout on in evaluation; "
            "pass training=self.training (or use {layer})"
        ),
    ),
    Rule(
        code="LA401",
        name="removed-trainer-argument",
        summary="Trainer argument that Lightning 2.x removed",
        message="Trainer argument {argument} no longer exists in Lightning 2.x; {replacement}",
        runtime=False,
    ),
    Rule(
        code="LA402",
        name="removed-hook",
        summary="hook that Lightning 2.x removed",
        message="{kind} hook {hook} no longer exists in Lightning 2.x; {replacement}",
        runtime=False,
    ),
    Rule(
        code="LA403",
        name="removed-import",
        summary="import of a Lightning module or name that 2.x removed",
        message="{path} no longer exists in Lightning 2.x; {replacement}",
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
    ),
    Rule(
        code="LA405",
        name="removed-trainer-method",
        summary="Trainer, LightningModule, DataModule or callback method, attribute or argument that 2.x removed",
        message="{what} no longer exists in Lightning 2.x; {replacement}",
        runtime=False,
    ),
    Rule(
        code="LA501",
        name="softmax-before-cross-entropy",
        summary="cross-entropy loss fed softmax probabilities instead of logits",
        message=(
            "{loss} is given {softmax} output, but it applies log_softmax itself; "
            "pass the logits and drop the softmax"
        ),
    ),
    Rule(
        code="LA502",
        name="loss-kept-with-graph",
        summary="loss accumulated with its autograd graph across iterations",
        message=(
            "{target} keeps {loss} with its autograd graph across iterations, so memory grows every step; "
            "accumulate {loss}.item() (or {loss}.detach())"
        ),
    ),
    Rule(
        code="LA503",
        name="missing-zero-grad",
        summary="optimizer stepped on gradients that are never cleared",
        message=(
            "{optimizer} is stepped but its gradients are never cleared, so they add up over every "
            "backward(); call {optimizer}.zero_grad() each iteration"
        ),
    ),
)

RULES: Dict[str, Rule] = {rule.code: rule for rule in _RULES}


def rule(code: str) -> Rule:
    """The catalog entry for ``code``; ``KeyError`` names unknown codes."""
    try:
        return RULES[code]
    except KeyError:
        raise KeyError(f"unknown lightning-advisor rule {code!r}; known: {', '.join(RULES)}") from None
