"""The LA401-LA404 data checked against the installed Lightning 2.x, in both namespaces.

Everything the rules call removed must really be gone, and every replacement a message names
must really exist: a wrong entry would be a false positive or bad advice in every user's editor.
"""
from __future__ import annotations

import importlib
import inspect
import re
import warnings
from typing import Iterator, List

import pytest

from lightning_advisor.removed_api import (
    CALLBACK,
    CHANGED_HOOK_SIGNATURES,
    DATALOADER_ITER_USE,
    DATAMODULE,
    FINETUNING,
    MODULE,
    REMOVED_CALL_ARGUMENTS,
    REMOVED_HOOKS,
    REMOVED_LIGHTNING_MEMBERS,
    REMOVED_LOG_ARGUMENTS,
    REMOVED_MODULES,
    REMOVED_NAMES,
    REMOVED_TRAINER_ARGUMENTS,
    REMOVED_TRAINER_MEMBERS,
    REMOVED_TRAINER_METHOD_ARGUMENTS,
    REMOVED_TRAINER_VALUES,
    REQUIRED_ARGUMENTS,
    TRAINER_SUBCLASSES,
    fabric_of,
    removed_import,
    removed_module,
    trainer_argument_replacement,
    trainer_member_replacement,
)

NAMESPACES = ("pytorch_lightning", "lightning.pytorch")
_NAMES_OUTSIDE_LIGHTNING = {"isinstance", "KeyboardInterrupt"}


def _import(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(name)


def _resolvable(ns: str, name: str) -> object:
    """The Lightning object a message calls ``name``: a class, a function or a method."""
    trainer, tuner = _import(ns).Trainer, _import(f"{ns}.tuner").Tuner
    places = [_import(ns)] + [_import(f"{ns}.{m}") for m in (
        "callbacks", "tuner", "utilities", "loggers", "accelerators", "strategies", "plugins"
    )] + [trainer, tuner]
    for place in places:
        if hasattr(place, name):
            return getattr(place, name)
    raise AssertionError(f"{name} is not in {ns}")


def _without_brackets(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)|\[[^\[\]]*\]", "", text)
    return text


def _check_calls_and_keywords(ns: str, text: str) -> None:
    """``Name(kw=...)`` must be a Lightning callable taking ``kw``; top-level ``kw=`` a Trainer argument."""
    for name, arguments in re.findall(r"([A-Za-z_]\w*)\(([^()]*)\)", text):
        if name in _NAMES_OUTSIDE_LIGHTNING:
            continue
        target = _resolvable(ns, name)
        parameters = inspect.signature(target).parameters
        for keyword in re.findall(r"\b([a-z_]+)=", arguments):
            assert keyword in parameters, f"{name} takes no {keyword}= ({text})"
    trainer_parameters = inspect.signature(_import(ns).Trainer.__init__).parameters
    for keyword in re.findall(r"\b([a-z_]+)=", _without_brackets(text)):
        assert keyword in trainer_parameters, f"Trainer takes no {keyword}= ({text})"


def _check_import_advice(text: str) -> None:
    """``from a.b import C``, ``import C from a.b`` and ``use C from a.b`` must work; so must ``from a.b``."""
    for module, name in re.findall(r"from ([\w.]+) import (\w+)", text):
        assert hasattr(_import(module), name), text
    for name, module in re.findall(r"\b(?:import|use) (\w+)\b[^;:]*? from ([\w.]+)", text):
        assert hasattr(_import(module), name), f"{module} has no {name} ({text})"
    for module in re.findall(r"\bfrom ([a-z_][\w.]*)", text):
        _import(module)


def _check_values(ns: str, text: str) -> None:
    """``strategy="..."``, ``precision="..."``, ``accelerator="..."`` name values Lightning 2.x accepts."""
    strategies = _import(f"{ns}.strategies").StrategyRegistry.available_strategies()
    for value in re.findall(r'strategy="(\w+)"', text):
        assert value in strategies, text
    precision = inspect.signature(_import(ns).Trainer.__init__).parameters["precision"].annotation
    for value in re.findall(r'precision="([\w-]+)"', text):
        assert value in str(precision), text
    for value in re.findall(r'accelerator="(\w+)"', text):
        assert value in ("cpu", "gpu", "tpu"), text
    for attribute in re.findall(r"self\.(\w+) =", text):
        assert hasattr(_import(ns).LightningModule(), attribute), text


def _replacement_texts(ns: str) -> Iterator[str]:
    for name, argument in REMOVED_TRAINER_ARGUMENTS.items():
        for template in (argument.use, *argument.when.values()):
            yield template.format(value="x", ns=ns, fabric=fabric_of(ns))
    for module in REMOVED_MODULES:
        yield removed_import(f"{ns}.{module}")[1]
    for module, name in REMOVED_NAMES:
        yield removed_import(f"{ns}.{module}".rstrip("."), name)[1]


# -- LA401 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_trainer_arguments_are_not_parameters_of_the_installed_trainer(ns):
    parameters = inspect.signature(_import(ns).Trainer.__init__).parameters
    assert set(REMOVED_TRAINER_ARGUMENTS) & set(parameters) == set()


@pytest.mark.parametrize("ns", NAMESPACES)
def test_replacements_name_real_arguments_values_and_imports(ns):
    for text in _replacement_texts(ns):
        _check_calls_and_keywords(ns, text)
        _check_import_advice(text)
        _check_values(ns, text)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_a_removed_trainer_argument_is_a_type_error(ns):
    with pytest.raises(TypeError, match="unexpected keyword argument 'gpus'"):
        _import(ns).Trainer(gpus=1)


def test_replacement_quotes_the_value_or_says_what_a_switched_off_value_needs():
    def replacement(name, source, constant):
        return trainer_argument_replacement(name, source, constant, "lightning.pytorch")

    assert replacement("gpus", "2", (True, 2)) == 'pass accelerator="gpu", devices=2'
    assert replacement("gpus", "0", (True, 0)).startswith("remove it")
    assert replacement("gpus", "args.gpus", (False, None)) == (
        'pass accelerator="gpu", devices=args.gpus where args.gpus is above 0, '
        'and accelerator="cpu" without devices where it is 0'
    )
    assert replacement("auto_lr_find", "False", (True, False)) == "remove it"
    assert replacement("resume_from_checkpoint", "p", (False, None)) == (
        "pass it to fit: trainer.fit(model, ckpt_path=p)"
    )
    assert "from lightning.pytorch.tuner import Tuner" in replacement("auto_lr_find", "True", (True, True))
    assert replacement("weights_summary", '"full"', (True, "full")) == "pass callbacks=[ModelSummary(max_depth=-1)]"


# -- LA402 -------------------------------------------------------------------------------------


_CLASS_NAMES = {MODULE: "LightningModule", DATAMODULE: "LightningDataModule", CALLBACK: "Callback"}


def _kind_class(ns: str, kind: str) -> type:
    return getattr(_import(ns), _CLASS_NAMES[kind])


def _hooks_named(text: str) -> List[str]:
    return re.findall(r"\b(on_\w+|\w+_(?:step|dataloader)|state_dict|load_state_dict|setup)\b", text)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_hooks_are_not_hooks_of_the_installed_classes(ns):
    for hook, kinds in REMOVED_HOOKS.items():
        for kind in kinds:
            assert not hasattr(_kind_class(ns, kind), hook), f"{kind}.{hook} still exists"


@pytest.mark.parametrize("ns", NAMESPACES)
def test_hooks_named_as_replacements_exist_on_the_same_class(ns):
    for hook, kinds in REMOVED_HOOKS.items():
        for kind, replacement in kinds.items():
            named = _hooks_named(replacement)
            unnamed = ("tbptt_split_batch", "get_progress_bar_dict", "on_post_move_to_device")
            assert named or hook in unnamed, replacement
            for new in named:
                assert hasattr(_kind_class(ns, kind), new), f"{kind} has no {new} ({replacement})"


def test_hooks_still_in_lightning_are_not_listed():
    assert {"on_validation_epoch_end", "on_train_epoch_end", "on_test_epoch_end", "on_exception"}.isdisjoint(
        REMOVED_HOOKS
    )
    assert MODULE not in REMOVED_HOOKS["on_save_checkpoint"] and CALLBACK not in REMOVED_HOOKS["on_save_checkpoint"]


# -- LA403 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_modules_cannot_be_imported(ns):
    for module in REMOVED_MODULES:
        with pytest.raises(ModuleNotFoundError):
            _import(f"{ns}.{module}")


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_names_are_gone_from_modules_that_still_exist(ns):
    for module, name in REMOVED_NAMES:
        if removed_module(f"{ns}.{module}") is not None:  # a name with advice of its own in a removed module
            with pytest.raises(ModuleNotFoundError):
                _import(f"{ns}.{module}")
            continue
        assert not hasattr(_import(f"{ns}.{module}" if module else ns), name), f"{ns}.{module}.{name} exists"


@pytest.mark.parametrize("ns", NAMESPACES)
def test_every_removed_path_is_reported_under_the_path_written(ns):
    for module in REMOVED_MODULES:
        assert removed_import(f"{ns}.{module}")[0] == f"{ns}.{module}"
    for module, name in REMOVED_NAMES:
        assert removed_import(f"{ns}.{module}", name)[0] == f"{ns}.{module}.{name}"


def test_submodules_of_a_removed_module_get_the_matching_new_path():
    assert removed_import("pytorch_lightning.metrics.functional") == (
        "pytorch_lightning.metrics.functional",
        "metrics moved to the torchmetrics package: import from torchmetrics.functional",
    )
    assert removed_import("lightning.pytorch.core", "lightning")[0] == "lightning.pytorch.core.lightning"
    assert removed_import("pytorch_lightning.callbacks", "ProgressBar") is None  # the 2.x ProgressBar
    assert removed_import("torch.metrics") is None


def test_a_name_with_advice_of_its_own_in_a_removed_module_gets_that_advice():
    what, advice = removed_import("pytorch_lightning.utilities.distributed", "AllGatherGrad")
    assert what == "pytorch_lightning.utilities.distributed.AllGatherGrad" and "torch.distributed" in advice
    assert removed_import("pytorch_lightning.utilities.distributed", "rank_zero_only")[0] == (
        "pytorch_lightning.utilities.distributed"
    )


# -- LA401: argument values ----------------------------------------------------------------------


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_values_are_refused_and_their_replacements_accepted(ns):
    accelerators = set(_import(f"{ns}.accelerators").AcceleratorRegistry.available_accelerators()) | {"gpu", "auto"}
    strategies = _import(f"{ns}.strategies").StrategyRegistry.available_strategies()
    assert set(REMOVED_TRAINER_VALUES["accelerator"]).isdisjoint(accelerators)
    assert set(REMOVED_TRAINER_VALUES["strategy"]).isdisjoint(strategies)
    parameters = inspect.signature(_import(ns).Trainer.__init__).parameters
    assert set(REMOVED_TRAINER_VALUES) <= set(parameters)  # the arguments themselves still exist
    for values in REMOVED_TRAINER_VALUES.values():
        for template in values.values():
            text = template.format(value="x", ns=ns)
            _check_calls_and_keywords(ns, text)
            _check_import_advice(text)
            _check_values(ns, text)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_max_steps_none_fails_in_the_installed_trainer(ns):
    with warnings.catch_warnings(), pytest.raises(TypeError):
        warnings.simplefilter("ignore")
        _import(ns).Trainer(max_steps=None, logger=False)


# -- LA402: changed signatures ---------------------------------------------------------------------


def _hook_owner(ns: str, kind: str) -> type:
    if kind == FINETUNING:
        return _import(f"{ns}.callbacks").BaseFinetuning
    return _kind_class(ns, kind)


def _parameters(function) -> List[str]:
    """``["self", "loss", "*args", "**kwargs"]``: a signature's parameters as a definition spells them."""
    kinds = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [kinds.get(p.kind, "") + name for name, p in inspect.signature(function).parameters.items()]


@pytest.mark.parametrize("ns", NAMESPACES)
def test_changed_hooks_are_called_as_the_data_says(ns):
    for hook, kinds in CHANGED_HOOK_SIGNATURES.items():
        for kind, call in kinds.items():
            parameters = _parameters(getattr(_hook_owner(ns, kind), hook))
            if hook == "training_step":  # (self, *args, **kwargs) in 2.x; the loop passes batch, batch_idx
                assert parameters == ["self", "*args", "**kwargs"]
                continue
            named = [p.lstrip("*") for p in parameters[1:] if not p.startswith("*")]
            assert tuple(named) == call.passes + call.keywords, (kind, hook, parameters)
            assert set(call.removed).isdisjoint(named)
            assert set(call.rejected) <= set(call.removed)
            # the advised definition is the installed one, name for name
            definition = re.search(rf"define {hook}\(([^)]*)\)", call.use)
            assert definition, call.use
            advised = [re.sub(r"=.*", "", p.strip()) for p in definition.group(1).split(",")]
            assert advised == parameters, (hook, advised, parameters)


def test_the_dataloader_iter_advice_names_the_iterator_flavour():
    text = DATALOADER_ITER_USE.format(hook="training_step")
    assert "training_step(self, dataloader_iter)" in text and "(batch, batch_idx, dataloader_idx)" in text


@pytest.mark.parametrize("ns", NAMESPACES)
def test_training_step_with_optimizer_idx_is_refused_by_the_installed_lightning(ns):
    """Lightning 2.x raises for a training_step that takes optimizer_idx: LA402 reports it whatever its default."""
    core_optimizer = _import(f"{ns}.core.optimizer")
    source = inspect.getsource(core_optimizer._validate_multiple_optimizers_support)
    assert 'is_param_in_hook_signature(model.training_step, "optimizer_idx", explicit=True)' in source


# -- LA405: Trainer members and method arguments ----------------------------------------------------


def _trainer(ns: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _import(ns).Trainer(logger=False)  # with its default callbacks: the advice reads them


def _check_trainer_chains(ns: str, text: str, trainer) -> str:
    """``trainer.a.b`` in the advice must exist on a Trainer; returns the text without those chains."""
    for chain in re.findall(r"\btrainer((?:\.\w+)+)", text):
        place = trainer
        for attribute in chain.strip(".").split("."):
            if attribute == "index" and place is trainer.strategy.root_device:
                continue
            assert hasattr(type(place), attribute) or hasattr(place, attribute), f"trainer{chain} ({text})"
            place = getattr(place, attribute)
    return re.sub(r"\btrainer(?:\.\w+)+(?:\([^()]*\))?", "trainer", text)


_OUTSIDE = {"isinstance", "parse_args", "Trainer"}


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_trainer_members_are_gone_and_their_replacements_exist(ns):
    trainer = _trainer(ns)
    for name in REMOVED_TRAINER_MEMBERS:
        assert not hasattr(trainer, name) and not hasattr(type(trainer), name), f"Trainer.{name} exists"
    for name in REMOVED_TRAINER_MEMBERS:
        text = _check_trainer_chains(ns, trainer_member_replacement(name, ns), trainer)
        _check_import_advice(text)
        _check_values(ns, text)
        for called, arguments in re.findall(r"([A-Za-z_]\w*)\(([^()]*)\)", text):
            if called not in _OUTSIDE:
                _resolvable(ns, called)
    trainer_parameters = inspect.signature(_import(ns).Trainer.__init__).parameters
    assert "max_epochs" in trainer_parameters  # the from_argparse_args advice


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_method_keywords_are_gone_and_their_replacements_taken(ns):
    trainer = _import(ns).Trainer
    for (method, keyword), template in REMOVED_TRAINER_METHOD_ARGUMENTS.items():
        parameters = inspect.signature(getattr(trainer, method)).parameters
        assert keyword not in parameters
        (new,) = re.findall(r"(\w+)=", template)
        assert new in parameters, (method, new)


def test_known_trainer_subclasses_pass_their_keywords_on():
    assert set(TRAINER_SUBCLASSES.values()) <= set(NAMESPACES)


# -- LA405: LightningModule / LightningDataModule members, keywords of other Lightning callables ------


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_module_and_datamodule_members_are_gone_and_their_replacements_exist(ns):
    trainer = _trainer(ns)
    for name, kinds in REMOVED_LIGHTNING_MEMBERS.items():
        for kind, template in kinds.items():
            instance = _kind_class(ns, kind)()
            assert not hasattr(instance, name) and not hasattr(type(instance), name), f"{kind}.{name} exists"
            text = template.format(ns=ns, fabric=fabric_of(ns), owner="self")
            _check_import_advice(text)
            for attribute in re.findall(r"\bself\.trainer\.(\w+)", text):
                assert hasattr(trainer, attribute), text
            for hook in re.findall(r"\bin (on_\w+|configure_\w+)\b", text):
                assert hasattr(_kind_class(ns, kind), hook), text
            if "ModelSummary(" in text:
                assert hasattr(_import(f"{ns}.utilities.model_summary").ModelSummary, "model_size")


def _callable(ns: str, name: str):
    for module in ("callbacks", "profilers", "cli", "utilities.model_helpers"):
        found = getattr(_import(f"{ns}.{module}"), name, None)
        if found is not None:
            return found
    raise AssertionError(f"{name} is not in {ns}")


@pytest.mark.parametrize("ns", NAMESPACES)
def test_removed_call_keywords_are_gone_and_their_replacements_taken(ns):
    nested = {"save_config_kwargs": _import(f"{ns}.cli").SaveConfigCallback,
              "parser_kwargs": _import(f"{ns}.cli").LightningArgumentParser}
    for (name, keyword), template in REMOVED_CALL_ARGUMENTS.items():
        parameters = inspect.signature(_callable(ns, name)).parameters
        assert keyword not in parameters, (name, keyword)
        text = template.format(value="x")
        for new in re.findall(r"(\w+)=", text):
            assert new in parameters, (name, new)
            if new in nested:
                (key,) = re.findall(r'"(\w+)":', text)
                assert key in inspect.signature(nested[new]).parameters, (name, key)
    log = inspect.signature(_import(ns).LightningModule.log).parameters
    log_dict = inspect.signature(_import(ns).LightningModule.log_dict).parameters
    for keyword, template in REMOVED_LOG_ARGUMENTS.items():
        assert keyword not in log and keyword not in log_dict
        (new,) = re.findall(r"(\w+)=", template)
        assert new in log and new in log_dict
    for name, (argument, _) in REQUIRED_ARGUMENTS.items():  # EarlyStopping() is a TypeError
        first = next(iter(inspect.signature(_callable(ns, name)).parameters.values()))
        assert first.name == argument and first.default is inspect.Parameter.empty
