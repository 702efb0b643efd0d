"""LA402's claim about the three old epoch-end hooks, on a real Trainer of each namespace."""
from __future__ import annotations

import pytest

from lightning_advisor.removed_api import REJECTED_HOOKS


@pytest.mark.parametrize("hook", sorted(REJECTED_HOOKS))
def test_lightning_refuses_a_module_with_an_old_epoch_end_hook(lit, make_trainer, make_loader, hook):
    model = type("OldModel", (lit.BoringModel,), {hook: lambda self, outputs: None})()
    trainer = make_trainer()
    run = {"training_epoch_end": trainer.fit, "validation_epoch_end": trainer.validate, "test_epoch_end": trainer.test}
    with pytest.raises(NotImplementedError, match=f"Support for `{hook}` has been removed"):
        run[hook](model, make_loader())
