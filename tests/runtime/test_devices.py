"""LA201 / LA202 at run time: ``.cuda()`` and hard-coded CUDA devices in the user's hooks.

On a machine without a GPU the offending call fails: the finding must be out before
the error propagates, pointing at the line below that made the call.
"""
from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode

from lightning_advisor import AdvisorCallback, AdvisorError, AdvisorWarning, rule
from lightning_advisor.runtime.devices import DeviceProbe, _remove_function_mode
from lightning_advisor.runtime.report import Reporter

NO_GPU = not torch.cuda.is_available()
CUDA_FAILURE = (RuntimeError, AssertionError)  # no driver / torch built without CUDA
DEVICE = "cuda"  # a hard-coded device held in a constant


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# <marker>``."""
    with open(__file__) as source:
        lines = [number for number, text in enumerate(source, 1) if text.rstrip().endswith(f"# {marker}")]
    assert len(lines) == 1, marker
    return lines[0]


# -- the moves under test: each marked line is what a finding must point at -------------------


def tensor_cuda(module, x):
    return x.cuda()  # tensor_cuda


def submodule_cuda(module, x):
    module.layer.cuda()  # submodule_cuda


def lightning_module_cuda(module, x):
    module.cuda()  # lightning_module_cuda


def tensor_to_string(module, x):
    return x.to("cuda:0", non_blocking=True)  # tensor_to_string


def tensor_to_constant(module, x):
    return x.to(DEVICE)  # tensor_to_constant


def tensor_to_device_object(module, x):
    return x.to(  # tensor_to_device_object
        torch.device("cuda", 0),
    )


def factory_device(module, x):
    return torch.zeros(2, device="cuda")  # factory_device


def submodule_to(module, x):
    module.layer.to("cuda")  # submodule_to


def lightning_module_to(module, x):
    module.to(device=f"cuda:{0}")  # lightning_module_to


MOVES = [
    # (move, code, the device the message names, the hook that runs it)
    (tensor_cuda, "LA201", None, "training_step"),
    (submodule_cuda, "LA201", None, "on_train_start"),
    (lightning_module_cuda, "LA201", None, "on_train_epoch_start"),
    (tensor_to_string, "LA202", "cuda:0", "training_step"),
    (tensor_to_constant, "LA202", "cuda", "validation_step"),
    (tensor_to_device_object, "LA202", "cuda:0", "on_validation_start"),
    (factory_device, "LA202", "cuda", "test_step"),
    (submodule_to, "LA202", "cuda", "on_train_start"),
    (lightning_module_to, "LA202", "cuda:0", "on_test_start"),
]


def moving_model(lit, move, hook):
    """A BoringModel whose ``hook`` runs ``move``."""

    class MovingModel(lit.BoringModel):
        def _run(self, name, x=None):
            if name == hook:
                move(self, torch.ones(2) if x is None else x)

        def training_step(self, batch, batch_idx):
            self._run("training_step", batch[0])
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            self._run("validation_step", batch[0])
            return super().validation_step(batch, batch_idx)

        def test_step(self, batch, batch_idx, dataloader_idx=0):
            self._run("test_step", batch[0])
            return super().test_step(batch, batch_idx)

        def on_train_start(self):
            self._run("on_train_start")

        def on_train_epoch_start(self):
            self._run("on_train_epoch_start")

        def on_validation_start(self):
            self._run("on_validation_start")

        def on_test_start(self):
            self._run("on_test_start")

    return MovingModel()


def run_stage(trainer, model, loader, hook):
    if "test" in hook:
        trainer.test(model, loader)
    else:
        trainer.fit(model, loader, val_dataloaders=loader)


def assert_nothing_left_installed(model):
    assert torch._C._len_torch_function_stack() == 0
    for owner in type(model).__mro__:
        assert not hasattr(vars(owner).get("cuda"), "__wrapped__"), owner


@pytest.mark.skipif(not NO_GPU, reason="the move succeeds on a GPU machine")
@pytest.mark.parametrize("move, code, device, hook", MOVES, ids=[m[0].__name__ for m in MOVES])
def test_reported_at_the_users_line_before_the_call_fails(
    lit, make_trainer, make_loader, move, code, device, hook
):
    advisor = AdvisorCallback()
    model = moving_model(lit, move, hook)
    message = rule(code).render(device=device) if device else rule(code).render()
    with pytest.warns(AdvisorWarning, match=f"^{code} ") as caught, pytest.raises(CUDA_FAILURE):
        run_stage(make_trainer(callbacks=[advisor]), model, make_loader(), hook)
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        (code, message, f"{__file__}:{line_of(move.__name__)}")
    ]
    warned = [w for w in caught if issubclass(w.category, AdvisorWarning)]
    assert (warned[0].filename, warned[0].lineno) == (__file__, line_of(move.__name__))
    assert_nothing_left_installed(model)


@pytest.mark.skipif(not NO_GPU, reason="the move succeeds on a GPU machine")
def test_strict_raises_advisor_error_instead_of_the_cuda_error(lit, make_trainer, make_loader):
    model = moving_model(lit, tensor_cuda, "training_step")
    with pytest.raises(AdvisorError, match="^LA201 "):
        make_trainer(callbacks=[AdvisorCallback(strict=True)]).fit(model, make_loader())
    assert_nothing_left_installed(model)


def test_ignored_codes_are_not_watched(lit, make_trainer, make_loader, recorded):
    model = moving_model(lit, tensor_to_string, "training_step")
    advisor = AdvisorCallback(ignore=["LA201", "LA202"])
    with recorded() as caught, pytest.raises(CUDA_FAILURE) if NO_GPU else _no_error():
        make_trainer(callbacks=[advisor]).fit(model, make_loader())
    assert caught.advisor == []


class _no_error:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def clean_model(lit):
    """Device-agnostic code: every move follows the Trainer's device."""

    class PortableModel(lit.BoringModel):
        def on_train_start(self):
            self.layer.to(self.device)
            self.to(self.device)
            self.offset = torch.zeros(2, device=self.device)

        def training_step(self, batch, batch_idx):
            x = batch[0].to(self.device)
            y = torch.ones_like(x).type_as(x) + torch.tensor(1.0, device=x.device)
            self.log("y", y.sum())
            return self(x + y).sum() + self.offset.sum()

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            return self(batch[0].to(self.device, non_blocking=True)).sum()

    return PortableModel()


def test_device_agnostic_code_is_clean(lit, make_trainer, make_loader, recorded):
    accelerator = "cpu" if NO_GPU else "gpu"
    model = clean_model(lit)
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback()], accelerator=accelerator, max_epochs=2)
        trainer.fit(model, make_loader(), val_dataloaders=make_loader())
        trainer.test(model, make_loader())
        trainer.predict(model, make_loader())
    assert caught.advisor == []
    assert_nothing_left_installed(model)


@pytest.mark.skipif(NO_GPU, reason="needs a GPU: the moves succeed there")
@pytest.mark.parametrize("move, code, device, hook", MOVES, ids=[m[0].__name__ for m in MOVES])
def test_reported_on_a_gpu_machine_too(lit, make_trainer, make_loader, move, code, device, hook):
    advisor = AdvisorCallback()
    model = moving_model(lit, move, hook)
    with pytest.warns(AdvisorWarning, match=f"^{code} "):
        run_stage(make_trainer(callbacks=[advisor], accelerator="gpu"), model, make_loader(), hook)
    expected = [(code, f"{__file__}:{line_of(move.__name__)}")]
    assert [(f.code, f.location) for f in advisor.findings] == expected


def test_only_the_first_batches_of_a_stage_are_watched(lit, make_trainer, make_loader):
    depths = []

    class Model(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            depths.append(torch._C._len_torch_function_stack())
            return super().training_step(batch, batch_idx)

    make_trainer(callbacks=[AdvisorCallback()], limit_train_batches=5).fit(Model(), make_loader(length=20))
    assert depths == [1, 1, 1, 0, 0]


# -- the probe on its own --------------------------------------------------------------------


def test_probe_window_follows_stages_and_teardown_restores_everything(lit):
    probe = DeviceProbe(Reporter(), batches=1)
    model = lit.BoringModel()
    original = type(model).cuda
    probe.on_stage_start(None, model, "train")
    assert torch._C._len_torch_function_stack() == 1 and type(model).cuda is not original
    probe.on_stage_start(None, model, "validate")
    probe.on_batch_end(None, model, "validate", 0)  # validate's window shuts, train's stays open
    assert torch._C._len_torch_function_stack() == 1
    probe.teardown()
    assert torch._C._len_torch_function_stack() == 0 and type(model).cuda is original
    probe.teardown()  # idempotent


def test_mode_is_removed_even_under_someone_elses():
    class Other(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    probe = DeviceProbe(Reporter())
    probe.on_stage_start(None, torch.nn.Linear(1, 1), "train")
    other = Other()
    with other:
        probe.teardown()
        assert torch._C._len_torch_function_stack() == 1
        assert torch.overrides._get_current_function_mode() is other
    assert torch._C._len_torch_function_stack() == 0


def test_remove_function_mode_leaves_the_stack_alone_when_absent():
    class Other(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    with Other() as other:
        _remove_function_mode(Other())
        assert torch.overrides._get_current_function_mode() is other


def test_a_broken_check_switches_itself_off_and_the_call_goes_on(monkeypatch):
    from lightning_advisor.runtime import devices

    def broken(*args):
        raise ValueError("boom")

    monkeypatch.setattr(devices, "find_user_frame", broken)
    probe = DeviceProbe(Reporter())
    probe.on_stage_start(None, torch.nn.Linear(1, 1), "train")
    try:
        with pytest.warns(AdvisorWarning, match="the LA201 manual-cuda-call / LA202 hard-coded-cuda-device check"):
            assert torch.zeros(1, device="cpu").tolist() == [0.0]
            torch.zeros(1).to("meta")  # not CUDA: never inspected
            if NO_GPU:
                with pytest.raises(CUDA_FAILURE):
                    torch.zeros(1).to("cuda")
            else:
                torch.zeros(1).to("cuda")
    finally:
        probe.teardown()
    assert probe.reporter.findings == []


def _moves_in(lit, hook_names, move):
    """A BoringModel whose given hooks run ``move`` (which fails on a machine without a GPU, after the report)."""

    def run_move(self, *args, **kwargs):
        if hook_names.get("epoch") is None or self.current_epoch == hook_names["epoch"]:
            try:
                move()
            except (RuntimeError, AssertionError):  # no GPU here: the report came first
                pass

    attributes = {name: run_move for name in hook_names["hooks"]}
    return type("MovesInHooks", (lit.BoringModel,), attributes)()


def cuda_in_setup():
    torch.zeros(2, device="cuda")  # cuda_in_setup


def cuda_call_later():
    torch.ones(2).cuda()  # cuda_call_later


@pytest.mark.skipif(not NO_GPU, reason="the move succeeds on a GPU machine; covered by the report test there")
@pytest.mark.parametrize("hooks, epoch, move, code", [
    (["setup"], None, cuda_in_setup, "LA202"),
    (["configure_model"], None, cuda_in_setup, "LA202"),
    (["on_fit_start"], None, cuda_in_setup, "LA202"),
    (["on_train_epoch_start"], 1, cuda_call_later, "LA201"),  # a later epoch, long after the first batches
])
def test_hooks_before_and_between_batches_are_watched(lit, make_trainer, make_loader, hooks, epoch, move, code):
    advisor = AdvisorCallback(ignore=["LA102"])
    model = _moves_in(lit, {"hooks": hooks, "epoch": epoch}, move)
    with pytest.warns(AdvisorWarning, match=f"^{code} "):
        make_trainer(callbacks=[advisor], max_epochs=2, limit_train_batches=4).fit(model, make_loader())
    assert [(f.code, f.location) for f in advisor.findings] == [(code, f"{__file__}:{line_of(move.__name__)}")]
    assert_nothing_left_installed(model)


def test_a_users_failing_torch_call_shows_no_frame_of_ours_where_tracebacks_hide_them(lit, make_trainer, make_loader):
    class Failing(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            return torch.zeros(-1, device="cpu")  # the user's own mistake

    with pytest.raises(RuntimeError, match="negative") as raised:
        make_trainer(callbacks=[AdvisorCallback()]).fit(Failing(), make_loader())
    shown = [str(entry.path) for entry in raised.traceback.filter(raised)]
    assert shown[-1] == __file__  # the user's line is where it ends
    assert not [path for path in shown if "lightning_advisor" in path]
