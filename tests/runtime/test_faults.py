"""AdvisorCallback under faults and unusual runs: it never changes how a run ends.

In every scenario the user's own exception propagates unchanged (the same object), the callback
raises nothing of its own, each finding is reported exactly once, the warning filters are those
in place before the run, and nothing the probes install (torch function modes, global module
hooks, wrapped ``cuda`` methods) is left behind.
"""
from __future__ import annotations

import contextlib
import gc
import signal
import time
import warnings
from typing import Iterator, List, Tuple

import pytest
import torch
from torch.nn.modules import module as torch_module
from torch.utils.data import DataLoader, IterableDataset, Sampler

from lightning_advisor import AdvisorCallback, AdvisorError, AdvisorWarning, rule
from lightning_advisor.runtime.dataloaders import ShuffleProbe, WorkersProbe

LA101_VAL = ("LA101", "val_dataloaders[0]")
LA102_TRAIN = ("LA102", "train_dataloader")
# LA102 judged on one measured batch, so runs of a few batches show it; LA103 would see the same slow data
QUICK = dict(warmup_batches=0, window_batches=1, ignore=["LA103"])


def sites(advisor: AdvisorCallback) -> List[Tuple[str, str]]:
    return [(f.code, f.location) for f in advisor.findings]


def _installed(model_class: type) -> tuple:
    """What the probes may install while a run is on: modes, global and per-module hooks, wrapped methods."""
    modules = [o for o in gc.get_objects() if issubclass(type(o), torch.nn.Module)]  # not weak proxies
    return (
        torch._C._len_torch_function_stack(),
        len(torch_module._global_forward_hooks),
        len(torch_module._global_forward_pre_hooks),
        sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in modules),
        [owner.__dict__.get("cuda") for owner in model_class.__mro__],
    )


@pytest.fixture
def guarded(recorded):
    """``with guarded(model_class) as caught:`` runs a fault and checks what the callback left behind."""

    @contextlib.contextmanager
    def guard(model_class: type) -> Iterator[list]:
        before = _installed(model_class)
        with recorded() as caught:
            warnings.filterwarnings("ignore", message="the user's own filter")
            filters = list(warnings.filters)
            yield caught
            assert warnings.filters == filters
        assert _installed(model_class) == before
        assert [m for m in caught.advisor if m.startswith("lightning-advisor:")] == []  # no check failed

    return guard


def assert_reported_once(advisor: AdvisorCallback, caught) -> None:
    """Each finding was warned about exactly once."""
    assert sorted(caught.advisor) == sorted(f.message for f in advisor.findings)


# -- exceptions from the user's code -------------------------------------------------------------

class UserError(Exception):
    pass


FAILURE_POINTS = {
    # where the user's code raises -> what the advisor found by then
    "setup": [],
    "configure_optimizers": [],
    "on_train_start": [],
    "training_step": [],  # the first batch: LA102 has measured nothing yet
    "on_validation_start": [LA102_TRAIN, LA101_VAL],
    "validation_step": [LA102_TRAIN, LA101_VAL],
    "on_train_epoch_end": [LA102_TRAIN, LA101_VAL],  # after the epoch's validation
}


@pytest.mark.parametrize("where", sorted(FAILURE_POINTS))
def test_the_users_exception_propagates_unchanged(lit, make_trainer, make_loader, guarded, where):
    error = UserError(f"raised in {where}")

    def fail(*args, **kwargs):
        raise error

    Failing = type("Failing", (lit.BoringModel,), {where: fail})
    advisor = AdvisorCallback(**QUICK)
    with guarded(Failing) as caught:
        trainer = make_trainer(callbacks=[advisor], limit_train_batches=3)
        with pytest.raises(UserError) as raised:
            trainer.fit(Failing(), make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
    assert raised.value is error and raised.value.__context__ is None
    assert sites(advisor) == FAILURE_POINTS[where]
    assert_reported_once(advisor, caught)
    assert advisor._trainer is None  # detached


def test_an_error_in_a_dataset_propagates_unchanged(lit, make_trainer, make_loader, guarded):
    error = UserError("corrupt sample")

    class Corrupt(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, index):
            if index == 5:
                raise error
            time.sleep(0.003)  # an expensive decode
            return (torch.randn(4),)

    advisor = AdvisorCallback(**QUICK)
    with guarded(lit.BoringModel) as caught:
        with pytest.raises(UserError) as raised:
            make_trainer(callbacks=[advisor], limit_train_batches=4).fit(
                lit.BoringModel(), DataLoader(Corrupt(), batch_size=2)  # noqa: LA102 - the runtime LA102 is expected
            )
    assert raised.value is error
    assert sites(advisor) == [LA102_TRAIN]  # judged on batch 1, before batch 2 failed
    assert_reported_once(advisor, caught)


def test_another_callbacks_exception_propagates_unchanged(lit, make_trainer, make_loader, guarded):
    error = UserError("from the user's callback")

    class Exploding(lit.ns.Callback):
        def on_train_batch_end(self, *args):
            raise error

    advisor = AdvisorCallback(**QUICK)
    with guarded(lit.BoringModel):
        with pytest.raises(UserError) as raised:
            make_trainer(callbacks=[advisor, Exploding()]).fit(lit.BoringModel(), make_loader("slow"))
    assert raised.value is error and sites(advisor) == []  # the first batch's end: nothing measured yet


def test_a_strict_finding_made_while_cleaning_up_never_replaces_the_users_exception(
    lit, make_trainer, make_loader, guarded, monkeypatch
):
    """strict=True raises at a finding; one made while the failed run is torn down must not mask its error."""

    def report_at_teardown(self):
        self.reporter.report("LA101", key="at teardown", split="validation", how="RandomSampler")

    monkeypatch.setattr(ShuffleProbe, "teardown", report_at_teardown)
    error = UserError("training failed")

    class Failing(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            raise error

    advisor = AdvisorCallback(strict=True, ignore=["LA102"])
    with guarded(Failing):
        with pytest.raises(UserError) as raised:
            make_trainer(callbacks=[advisor]).fit(Failing(), make_loader("random"))
    assert raised.value is error and raised.value.__context__ is None
    assert sites(advisor) == [("LA101", "at teardown")]  # still recorded and warned


def test_keyboard_interrupt_ends_the_run_as_it_does_without_the_callback(lit, make_trainer, make_loader, guarded):
    """Lightning turns Ctrl+C into a graceful shutdown and ``sys.exit(1)``; the callback changes nothing."""

    class Interrupted(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            if batch_idx == 1:
                raise KeyboardInterrupt
            return super().training_step(batch, batch_idx)

    def run(callbacks) -> Tuple[BaseException, int]:
        handler = signal.getsignal(signal.SIGINT)
        trainer = make_trainer(callbacks=callbacks, limit_train_batches=4)
        try:
            with pytest.raises(BaseException) as raised:
                trainer.fit(Interrupted(), make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
        finally:
            signal.signal(signal.SIGINT, handler)  # Lightning ignores SIGINT from then on
        return raised.value, trainer.global_step

    advisor = AdvisorCallback(**QUICK)
    with guarded(Interrupted) as caught:
        with_advisor = run([advisor])
    without = run([])
    assert (type(with_advisor[0]), getattr(with_advisor[0], "code", None), with_advisor[1]) == (
        type(without[0]), getattr(without[0], "code", None), without[1]
    )
    assert sites(advisor) == []  # interrupted in batch 1's step, before LA102 had a measured batch
    assert_reported_once(advisor, caught)


# -- runs repeated, resumed, and without fit ------------------------------------------------------

def test_fit_twice_on_the_same_trainer(lit, make_trainer, make_loader, guarded):
    advisor = AdvisorCallback(**QUICK)
    with guarded(lit.BoringModel) as caught:
        trainer = make_trainer(callbacks=[advisor], max_epochs=1)
        model = lit.BoringModel()
        trainer.fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
        trainer.fit_loop.max_epochs = 2
        trainer.fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
    assert trainer.current_epoch == 2
    assert sites(advisor) == [LA102_TRAIN, LA101_VAL]
    assert_reported_once(advisor, caught)


def test_one_callback_on_several_trainers_and_every_entry_point(lit, make_trainer, make_loader, guarded):
    advisor = AdvisorCallback(**QUICK)
    model = lit.BoringModel()
    with guarded(lit.BoringModel) as caught:
        make_trainer(callbacks=[advisor]).validate(model, make_loader(shuffle=True))
        make_trainer(callbacks=[advisor]).test(model, make_loader(shuffle=True))
        make_trainer(callbacks=[advisor]).predict(model, make_loader(shuffle=True))
        make_trainer(callbacks=[advisor]).fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
        make_trainer(callbacks=[advisor]).fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
    assert sites(advisor) == [
        LA101_VAL, ("LA101", "test_dataloaders[0]"), ("LA101", "predict_dataloaders[0]"), LA102_TRAIN,
    ]
    assert_reported_once(advisor, caught)


def test_resume_from_a_checkpoint(lit, make_trainer, make_loader, guarded, tmp_path):
    first, resumed, again = AdvisorCallback(**QUICK), AdvisorCallback(**QUICK), AdvisorCallback(**QUICK)
    model = lit.BoringModel()
    checkpointing = dict(enable_checkpointing=True, default_root_dir=tmp_path)
    with guarded(lit.BoringModel) as caught:
        trainer = make_trainer(callbacks=[first], **checkpointing)
        trainer.fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
        (checkpoint,) = tmp_path.rglob("*.ckpt")
        trainer = make_trainer(callbacks=[resumed], max_epochs=2, **checkpointing)
        trainer.fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True), ckpt_path=checkpoint)
        assert trainer.current_epoch == 2
        trainer = make_trainer(callbacks=[again], max_epochs=3, **checkpointing)
        trainer.fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True), ckpt_path="last")
    for advisor in (first, resumed, again):
        assert sites(advisor) == [LA102_TRAIN, LA101_VAL]
    assert len(caught.advisor) == 6


@pytest.mark.parametrize("options, expected", [
    ({"limit_val_batches": 0}, [LA102_TRAIN]),  # validation never runs: its loader is never used
    ({"fast_dev_run": True}, [LA101_VAL]),  # one training batch: LA102 measures none
    ({"num_sanity_val_steps": 2, "max_epochs": 2}, [LA101_VAL, LA102_TRAIN]),  # the sanity check comes first
    # validation after every batch: no training batch follows another, so none is measured for LA102
    ({"max_steps": 3, "limit_train_batches": 5, "val_check_interval": 1}, [LA101_VAL]),
])
def test_trainer_options_that_shorten_or_skip_loops(lit, make_trainer, make_loader, guarded, options, expected):
    advisor = AdvisorCallback(**QUICK)
    with guarded(lit.BoringModel) as caught:
        make_trainer(callbacks=[advisor], **options).fit(
            lit.BoringModel(), make_loader("slow"), val_dataloaders=make_loader(shuffle=True)
        )
    assert sites(advisor) == expected
    assert_reported_once(advisor, caught)


# -- loaders that are not one plain DataLoader -----------------------------------------------------

class Batches:
    """A plain iterable of batches: no DataLoader, no sampler, no workers."""

    def __init__(self, count: int = 4) -> None:
        self.batches = [(torch.randn(2, 4),) for _ in range(count)]

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class Stream(IterableDataset):
    def __iter__(self):
        return iter([(torch.randn(4),) for _ in range(8)])


class ShufflingSampler(Sampler):
    """A user's sampler that says it shuffles, the way DistributedSampler does."""

    shuffle = True

    def __init__(self, length: int) -> None:
        self.length = length

    def __iter__(self):
        return iter(torch.randperm(self.length).tolist())

    def __len__(self) -> int:
        return self.length


class TrickySampler(Sampler):
    """A sampler whose attributes raise: the advisor must not trip over the user's objects."""

    def __init__(self, length: int) -> None:
        self.length = length

    @property
    def shuffle(self):
        raise RuntimeError("not configured yet")

    @property
    def dataset(self):
        raise RuntimeError("not configured yet")

    def __iter__(self):
        return iter(range(self.length))

    def __len__(self) -> int:
        return self.length


class LabelledLoader(DataLoader):
    """A DataLoader subclass with an argument of its own."""

    def __init__(self, dataset, label: str, **options) -> None:
        super().__init__(dataset, **options)
        self.label = label


def _first_tensor(batch):
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, dict):
        batch = list(batch.values())
    return _first_tensor(batch[0])


@pytest.fixture
def flexible(lit):
    """A model whose steps accept any nesting of batches (dicts and lists from combined loaders)."""

    class Flexible(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            return self(_first_tensor(batch)).sum()

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            return self(_first_tensor(batch)).sum()

    return Flexible


def _loaders(make_loader, kind: str, ns):
    """(train, val, expected findings) for each kind of loader arrangement."""
    CombinedLoader = ns.utilities.CombinedLoader
    tensor = make_loader  # an in-memory TensorDataset: no LA102
    if kind == "plain iterables":
        return Batches(), Batches(), []
    if kind == "dict and list":
        # one fetch serves both training loaders: LA102 cannot say which one costs, and stays quiet
        train = {"images": make_loader("slow"), "labels": tensor()}
        val = [tensor(shuffle=True), make_loader("slow")]
        return train, val, [("LA101", "val_dataloaders[0]"), ("LA102", "val_dataloaders[1]")]
    if kind == "CombinedLoader":
        train = CombinedLoader({"a": make_loader("slow"), "b": tensor()}, mode="min_size")
        val = CombinedLoader([make_loader("slow"), tensor(shuffle=True)], mode="sequential")
        # LA101 at the loop's start, LA102 once a batch of val_dataloaders[0] is measured
        return train, val, [("LA101", "val_dataloaders[1]"), ("LA102", "val_dataloaders[0]")]
    if kind == "IterableDataset":
        # a stream lives in the training process: workers would each replay it, so no LA102
        stream = DataLoader(Stream(), batch_size=2)  # noqa: LA102
        return stream, stream, []
    if kind == "custom loader and samplers":
        data = torch.utils.data.TensorDataset(torch.randn(8, 4))
        train = LabelledLoader(data, "train", batch_size=2, sampler=TrickySampler(8))
        val = [
            LabelledLoader(data, "val", batch_size=2, sampler=ShufflingSampler(8)),
            DataLoader(data, batch_size=2, sampler=TrickySampler(8)),
        ]
        return train, val, [("LA101", "val_dataloaders[0]")]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["plain iterables", "dict and list", "CombinedLoader", "IterableDataset", "custom loader and samplers"]
)
def test_loader_arrangements(lit, make_trainer, make_loader, guarded, flexible, kind):
    train, val, expected = _loaders(make_loader, kind, lit.ns)
    advisor = AdvisorCallback(**QUICK)
    with guarded(flexible) as caught:
        trainer = make_trainer(callbacks=[advisor])
        trainer.fit(flexible(), train, val_dataloaders=val)
    assert trainer.global_step == 2
    assert sites(advisor) == expected
    assert_reported_once(advisor, caught)
    if kind == "custom loader and samplers":
        how = "ShufflingSampler(shuffle=True)"
        assert advisor.findings[0].message == rule("LA101").render(split="validation", how=how)


# -- a check that fails ------------------------------------------------------------------------------

def test_a_failing_check_is_reported_once_and_only_it_is_switched_off(
    lit, make_trainer, make_loader, recorded, monkeypatch
):
    def broken(self, *args):
        raise RuntimeError("boom")

    monkeypatch.setattr(ShuffleProbe, "on_stage_start", broken)
    advisor = AdvisorCallback(**QUICK)
    model = lit.BoringModel()
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor], max_epochs=2)
        trainer.fit(model, make_loader("slow"), val_dataloaders=make_loader(shuffle=True))
        make_trainer(callbacks=[advisor]).validate(model, make_loader("slow", shuffle=True))
        make_trainer(callbacks=[advisor]).test(model, make_loader(shuffle=True))
    assert trainer.current_epoch == 2
    failures = [m for m in caught.advisor if m.startswith("lightning-advisor:")]
    assert len(failures) == 1 and "LA101 eval-loader-shuffles check failed (RuntimeError: boom)" in failures[0]
    # LA101 is off for the callback's life; LA102 goes on in every run
    assert sites(advisor) == [LA102_TRAIN, ("LA102", "val_dataloaders[0]")]


def test_a_check_that_cannot_say_which_batches_it_needs_is_called_for_every_batch(
    lit, make_trainer, make_loader, recorded, monkeypatch
):
    def broken(self, hook):
        raise RuntimeError("boom")

    monkeypatch.setattr(WorkersProbe, "wants", broken)
    advisor = AdvisorCallback(**QUICK)
    with recorded() as caught:
        make_trainer(callbacks=[advisor]).fit(lit.BoringModel(), make_loader("slow"))
    assert [m for m in caught.advisor if m.startswith("lightning-advisor:")] == []
    assert sites(advisor) == [LA102_TRAIN]


def test_a_check_that_cannot_even_start_is_reported_once(lit, make_trainer, make_loader, recorded, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("cannot start")

    monkeypatch.setattr(ShuffleProbe, "__init__", broken)
    advisor = AdvisorCallback(**QUICK)
    with recorded() as caught:
        for _ in range(2):
            make_trainer(callbacks=[advisor]).validate(lit.BoringModel(), make_loader("slow", shuffle=True))
    failures = [m for m in caught.advisor if m.startswith("lightning-advisor:")]
    assert len(failures) == 1 and "cannot start" in failures[0]
    assert sites(advisor) == [("LA102", "val_dataloaders[0]")]


def test_strict_findings_still_stop_a_run(lit, make_trainer, make_loader, guarded):
    """The one exception the callback raises on purpose, in strict mode, is unchanged by all this."""
    advisor = AdvisorCallback(strict=True, **QUICK)
    with guarded(lit.BoringModel), pytest.warns(AdvisorWarning):
        with pytest.raises(AdvisorError, match="^LA102 "):
            make_trainer(callbacks=[advisor]).fit(lit.BoringModel(), make_loader("slow"))
    assert sites(advisor) == [LA102_TRAIN]


@pytest.mark.parametrize("probe_module, probe_name", [("modes", "ModeProbe"), ("devices", "DeviceProbe")])
def test_a_probe_that_fails_inside_torch_stays_off_in_later_runs(
    lit, make_trainer, make_loader, recorded, monkeypatch, probe_module, probe_name
):
    """A probe that contains its own failure (inside a forward or a tensor call) is not started again."""
    import importlib

    module = importlib.import_module(f"lightning_advisor.runtime.{probe_module}")
    probe_class = getattr(module, probe_name)

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "find_user_frame", broken)
    created = []
    real_create = probe_class.create.__func__
    monkeypatch.setattr(probe_class, "create", classmethod(lambda cls, *a: created.append(cls) or real_create(cls, *a)))

    class Probed(lit.BoringModel):
        def on_train_epoch_start(self):
            self(torch.ones(1, 4))  # a forward with grad on: the mode probe looks for its caller
            try:
                torch.zeros(1, device="cuda")  # a CUDA device: the device probe looks for its caller
            except Exception:  # no GPU here
                pass

    advisor = AdvisorCallback(ignore=["LA102"])
    with recorded() as caught:
        for _ in range(2):
            make_trainer(callbacks=[advisor]).fit(Probed(), make_loader())
    failures = [m for m in caught.advisor if m.startswith("lightning-advisor:")]
    assert len(failures) == 1 and f"the {probe_class.label()} check failed (RuntimeError: boom)" in failures[0]
    assert created == [probe_class]  # the second run did not start it again
