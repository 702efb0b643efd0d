"""Warning and error types shared by both front ends (no torch import here)."""


class AdvisorWarning(UserWarning):
    """A lightning-advisor finding at run time; the message starts with its LA code.

    ``warnings.filterwarnings("ignore", message="LA102")`` silences one rule,
    the runtime counterpart of ``# noqa: LA102``.
    """


class AdvisorError(RuntimeError):
    """Raised by ``AdvisorCallback(strict=True)`` at the first finding."""


RAISED_ON_PURPOSE = (AdvisorError, AdvisorWarning)
"""What the Callback lets through into the run: a strict-mode finding, and a finding that the user's
warning filters turned into an error (``-W error``, ``filterwarnings("error", category=AdvisorWarning)``).
Any other exception inside a check is the check's own failure, contained."""
