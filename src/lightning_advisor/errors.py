"""Warning and error types shared by both front ends (no torch import here)."""


class AdvisorWarning(UserWarning):
    """A lightning-advisor finding at run time; the message starts with its LA code.

    ``warnings.filterwarnings("ignore", message="LA102")`` silences one rule,
    the runtime counterpart of ``# noqa: LA102``.
    """


class AdvisorError(RuntimeError):
    """Raised by ``AdvisorCallback(strict=True)`` at the first finding."""
