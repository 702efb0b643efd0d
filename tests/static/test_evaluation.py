"""LA301 / LA302: hand-written evaluation loops, run through the flake8 plugin in-process."""

import pytest

from lightning_advisor.static.evaluation import is_loader_name, is_model_name
from rulebook import codes, messages as all_messages


def findings(source: str):
    """(line, code) of the LA3xx findings (line 1 is the line after the opening quotes)."""
    return [found for found in codes(source) if found[1].startswith("LA3")]


def messages(source: str):
    return sorted(message for message in all_messages(source) if message.startswith("LA3"))


BOTH = [(5, "LA301"), (5, "LA302")]


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["loader", "val_loader", "testloader", "valDL", "val_dl", "dl", "test_dataloader", "evalLoaders"]
)
def test_loader_names(name):
    assert is_loader_name(name)


@pytest.mark.parametrize("name", ["dataset", "val_set", "batches", "downloader", "data", "images"])
def test_not_loader_names(name):
    assert not is_loader_name(name)


@pytest.mark.parametrize("name", ["model", "net", "netG", "resnet18", "ema_model", "pl_module", "encoder_q"])
def test_model_names(name):
    assert is_model_name(name)


@pytest.mark.parametrize("name", ["get_model", "build_net", "criterion", "loss_module", "Net", "metric", "accuracy"])
def test_not_model_names(name):
    assert not is_model_name(name)


# -- the plain evaluate function -----------------------------------------------------------------
def test_plain_evaluate_function_reports_both_with_the_model_expression():
    source = """
    import torch

    def evaluate(model, loader):
        for x, y in loader:
            out = model(x)
    """
    assert findings(source) == BOTH
    assert messages(source) == [
        "LA301 evaluation loop runs model in training mode; call model.eval() before it (and .train() after)",
        "LA302 evaluation loop runs model with autograd on; wrap it in torch.no_grad() or torch.inference_mode()",
    ]


def test_nothing_without_torch_import():
    assert findings("""
    def evaluate(model, loader):
        for x, y in loader:
            out = model(x)
    """) == []


@pytest.mark.parametrize(
    "iterable",
    [
        "enumerate(val_loader)",
        "tqdm(test_loader, desc='test')",
        "enumerate(tqdm(dl))",
        "zip(val_loader, range(10))",
        "self_dm.val_dataloader()",
        "data",  # bound to DataLoader(...) below
    ],
)
def test_loader_spellings(iterable):
    source = f"""
    import torch
    from torch.utils.data import DataLoader

    def evaluate(model, val_loader, test_loader, dl, self_dm, dataset):
        data = DataLoader(dataset, batch_size=8, num_workers=4)
        for batch in {iterable}:
            model(batch)
    """
    assert findings(source) == [(7, "LA301"), (7, "LA302")]


def test_annotated_loader_parameter():
    source = """
    import torch
    from torch.utils.data import DataLoader

    def evaluate(model, batches: DataLoader):
        for x, y in batches:
            model(x)
    """
    assert findings(source) == [(6, "LA301"), (6, "LA302")]


@pytest.mark.parametrize("iterable", ["range(10)", "dataset", "[a, b]", "val_set", "loader.dataset"])
def test_non_loader_iterables_are_quiet(iterable):
    source = f"""
    import torch

    def score(model, dataset, val_set, loader, a, b):
        for x in {iterable}:
            model(x)
    """
    assert findings(source) == []


@pytest.mark.parametrize(
    "call, model",
    [
        ("model(x)", "model"),
        ("self_net(x)", "self_net"),
        ("model.forward(x)", "model"),
        ("cfg.model(x)", "cfg.model"),
        ("resnet(x)", "resnet"),
        ("m(x)", "m"),  # m = torchvision.models.resnet18()
        ("compiled(x)", "compiled"),  # compiled = torch.compile(...)
    ],
)
def test_model_spellings(call, model):
    source = f"""
    import torch
    import torchvision

    def evaluate(model, self_net, cfg, resnet, loader):
        m = torchvision.models.resnet18().to("cpu")
        compiled = torch.compile(model)
        for x, y in loader:
            out = {call}
    """
    assert messages(source)[0].startswith(f"LA301 evaluation loop runs {model} in training mode")


@pytest.mark.parametrize("call", ["criterion(x)", "get_model(x)", "F.softmax(x)", "Net(x)", "metric(x)", "x.mean()"])
def test_calls_that_are_not_models_are_quiet(call):
    source = f"""
    import torch
    import torch.nn.functional as F

    class Net(torch.nn.Module):
        pass

    def evaluate(criterion, get_model, metric, loader):
        for x, y in loader:
            out = {call}
    """
    assert findings(source) == []


# -- training loops --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "loss.backward()",
        "scaler.scale(loss).backward()",
        "fabric.backward(loss)",
        "self_.manual_backward(loss)",
        "optimizer.step()",
        "optimizer.zero_grad()",
        "model.train()",
        "train_step(model, x)",
    ],
)
def test_training_loops_are_quiet(line):
    source = f"""
    import torch

    def loop(model, loader, optimizer, scaler, fabric, self_, train_step):
        for x, y in loader:
            loss = model(x).sum()
            {line}
    """
    assert findings(source) == []


def test_profiler_step_does_not_make_a_training_loop():
    source = """
    import torch

    def profile(model, loader, prof):
        for x, y in loader:
            model(x)
            prof.step()
    """
    assert findings(source) == BOTH


# -- eval mode ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("switch", ["model.eval()", "model.train(False)", "model.train(mode=False)", "other.eval()"])
def test_eval_mode_switch_anywhere_in_the_function(switch):
    source = f"""
    import torch

    def evaluate(model, other, loader):
        for x, y in loader:
            model(x)
        {switch}
    """
    assert findings(source) == [(5, "LA302")]


def test_train_true_in_body_is_training():
    source = """
    import torch

    def evaluate(model, loader):
        for x, y in loader:
            model.train(True)
            model(x)
    """
    assert findings(source) == []


def test_global_model_put_in_eval_mode_elsewhere():
    source = """
    import torch
    import torchvision

    model = torchvision.models.resnet18().eval()

    @torch.inference_mode()
    def predict(loader):
        return [model(x) for x, _ in loader]

    def embed(loader):
        with torch.no_grad():
            for x, _ in loader:
                model(x)
    """
    assert findings(source) == []


def test_pretrained_and_scripted_models_start_in_eval_mode():
    source = """
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased").to("cpu")
    scripted = torch.jit.load("model.pt")
    for batch in loader:
        model(**batch)
    for batch in loader:
        scripted(batch)
    """
    assert findings(source) == [(7, "LA302"), (9, "LA302")]


def test_plain_class_keeps_its_model_in_eval_mode():
    source = """
    import torch

    class Evaluator:
        def __init__(self, model):
            self.model = model.eval()

        def run(self, loader):
            with torch.no_grad():
                for x, _ in loader:
                    self.model(x)
    """
    assert findings(source) == []


# -- grad mode ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "imports, context",
    [
        ("import torch", "torch.no_grad()"),
        ("import torch", "torch.inference_mode()"),
        ("import torch", "torch.set_grad_enabled(False)"),
        ("import torch", "torch.autograd.no_grad()"),
        ("import torch", "torch.autograd.grad_mode.inference_mode()"),
        ("import torch as T", "T.no_grad()"),
        ("from torch import no_grad", "no_grad()"),
        ("from torch import inference_mode as im", "im()"),
        ("from torch.autograd import grad_mode", "grad_mode.no_grad()"),
        ("import torch", "torch.autocast('cpu'), torch.no_grad()"),
    ],
)
def test_grad_off_context_spellings(imports, context):
    source = f"""
    {imports}

    def evaluate(model, loader):
        model.eval()
        with {context}:
            for x, y in loader:
                model(x)
    """
    assert findings(source) == []


@pytest.mark.parametrize(
    "context",
    ["torch.autocast('cpu')", "torch.inference_mode(False)", "torch.inference_mode(mode=False)", "open('log.txt')"],
)
def test_contexts_that_leave_grad_on(context):
    source = f"""
    import torch

    def evaluate(model, loader):
        model.eval()
        with {context}:
            for x, y in loader:
                model(x)
    """
    assert findings(source) == [(7, "LA302")]


def test_grad_off_inside_the_body_must_wrap_the_model_call():
    source = """
    import torch

    def evaluate(model, loader):
        model.eval()
        for x, y in loader:
            with torch.no_grad():
                out = model(x)
        for x, y in loader:
            out = model(x)
            with torch.no_grad():
                acc = out.argmax(1)
    """
    assert findings(source) == [(9, "LA302")]


def test_nested_with_blocks():
    source = """
    import torch

    def evaluate(model, loader):
        model.eval()
        with torch.no_grad():
            with torch.autocast("cpu"):
                for x, y in loader:
                    model(x)
    """
    assert findings(source) == []


def test_grad_context_bound_to_a_name():
    source = """
    import torch

    def evaluate(model, loader):
        model.eval()
        guard = torch.no_grad()
        with guard:
            for x, y in loader:
                model(x)
    """
    assert findings(source) == []


@pytest.mark.parametrize(
    "decorator, expected",
    [
        ("@torch.no_grad()", []),
        ("@torch.no_grad", []),
        ("@torch.inference_mode()", []),
        ("@torch.inference_mode", []),
        ("@torch.set_grad_enabled(False)", []),
        ("@no_grad()", []),
        ("@torch.enable_grad()", [(7, "LA301")]),
        ("@staticmethod", [(7, "LA301"), (7, "LA302")]),
    ],
)
def test_decorators(decorator, expected):
    source = f"""
    import torch
    from torch import no_grad

    {decorator}
    def helper(model, loader):
        for x, y in loader:
            model(x)
    """
    assert findings(source) == expected


def test_decorator_of_an_outer_function_covers_a_closure():
    source = """
    import torch

    @torch.no_grad()
    def outer(model, loader):
        def inner():
            for x, y in loader:
                model(x)
        return inner()
    """
    assert findings(source) == []


@pytest.mark.parametrize("mode", ["True", "is_training"])
def test_set_grad_enabled_true_or_unknown_is_quiet(mode):
    source = f"""
    import torch

    def evaluate(model, loader, is_training):
        model.eval()
        with torch.set_grad_enabled({mode}):
            for x, y in loader:
                model(x)
    """
    assert findings(source) == []


def test_global_set_grad_enabled_false_statement():
    source = """
    import torch

    torch.set_grad_enabled(False)

    def evaluate(model, loader):
        model.eval()
        for x, y in loader:
            model(x)
    """
    assert findings(source) == []


@pytest.mark.parametrize(
    "line", ["x.requires_grad_()", "torch.autograd.grad(model(x).sum(), x)", "x.requires_grad = True"]
)
def test_loops_that_want_gradients(line):
    source = f"""
    import torch

    def attribution(model, loader):
        model.eval()
        for x, y in loader:
            {line}
            model(x)
    """
    assert findings(source) == []


# -- unknown context managers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "imports, context",
    [
        ("from .utils import evaluating", "evaluating(model)"),
        ("from myproject.utils import evaluating", "evaluating(model)"),
        ("", "ema.average_parameters()"),
        ("", "frozen(model)"),
        ("", "guard"),
    ],
)
def test_user_context_managers_silence_both(imports, context):
    source = f"""
    import torch
    {imports}

    def frozen(model):
        pass

    def evaluate(model, loader, ema, guard):
        with {context}:
            for x, y in loader:
                model(x)
    """
    assert findings(source) == []


# -- module-level loops ------------------------------------------------------------------------------
def test_module_level_loop():
    source = """
    import torch
    from torch.utils.data import DataLoader

    test_data = DataLoader(range(10), batch_size=2, num_workers=4)
    model = torch.nn.Linear(1, 1)
    for x in test_data:
        model(x)
    if __name__ == "__main__":
        model.eval()
        for x in test_data:
            model(x)
        with torch.no_grad():
            for x in test_data:
                model(x)
    """
    assert findings(source) == [(7, "LA301"), (7, "LA302"), (11, "LA302")]


def test_module_level_eval_after_the_loop_does_not_count():
    source = """
    import torch

    for x, y in loader:
        model(x)
    model.eval()
    """
    assert findings(source) == [(4, "LA301"), (4, "LA302")]


def test_async_for():
    source = """
    import torch

    async def serve(model, loader):
        async for x in loader:
            model(x)
    """
    assert findings(source) == BOTH


# -- nested loops ------------------------------------------------------------------------------------
def test_loop_over_loaders_reports_the_inner_loop_only():
    source = """
    import torch

    def evaluate(model, loaders):
        for loader in loaders:
            for x, y in loader:
                model(x)
    """
    assert findings(source) == [(6, "LA301"), (6, "LA302")]


def test_inner_training_loop_makes_the_outer_loop_training():
    source = """
    import torch

    def fit(model, loader, optimizer):
        for x, y in loader:
            for _ in range(3):
                model(x).sum().backward()
                optimizer.step()
    """
    assert findings(source) == []


# -- callers that manage modes -------------------------------------------------------------------------
def test_helper_called_only_in_eval_mode_without_grad():
    source = """
    import torch

    def run(model, loader):
        for x, y in loader:
            model(x)

    def main(model, loader):
        model.eval()
        with torch.no_grad():
            run(model, loader)
    """
    assert findings(source) == []


def test_helper_with_one_call_site_under_grad():
    source = """
    import torch

    def run(model, loader):
        for x, y in loader:
            model(x)

    def main(model, loader):
        model.eval()
        with torch.no_grad():
            run(model, loader)
        run(model, loader)
    """
    assert findings(source) == [(5, "LA302")]


def test_helper_called_from_module_level_after_eval():
    source = """
    import torch

    def run(model, loader):
        for x, y in loader:
            model(x)

    model.eval()
    run(model, loader)
    """
    assert findings(source) == [(5, "LA302")]


# -- Lightning -----------------------------------------------------------------------------------------
LIGHTNING = """
import lightning as L
import torch


class Lit(L.LightningModule):
    def forward(self, x):
        return x

    def {hook}(self, *args):
        for x, y in self.trainer.datamodule.val_dataloader():
            self(x)
"""


@pytest.mark.parametrize(
    "hook",
    [
        "validation_step",
        "test_step",
        "predict_step",
        "on_validation_epoch_end",
        "on_test_batch_end",
        "on_predict_start",
        "val_dataloader",
        "training_step",
    ],
)
def test_lightning_hooks_that_lightning_runs_in_eval_mode(hook):
    assert findings(LIGHTNING.format(hook=hook)) == []


@pytest.mark.parametrize("hook", ["on_train_epoch_end", "on_fit_end", "on_train_batch_end", "score"])
def test_lightning_hooks_in_training_mode(hook):
    assert messages(LIGHTNING.format(hook=hook)) == [
        "LA301 evaluation loop runs self in training mode; call self.eval() before it (and .train() after)",
        "LA302 evaluation loop runs self with autograd on; wrap it in torch.no_grad() or torch.inference_mode()",
    ]


def test_lightning_module_self_call_needs_a_module_class():
    source = """
    import torch

    class Runner:
        def run(self, loader):
            for x in loader:
                self(x)
    """
    assert findings(source) == []


def test_lightning_self_forward_and_submodule():
    source = """
    import lightning as L
    import torch


    class Lit(L.LightningModule):
        def on_train_end(self):
            self.eval()
            for x, y in self.trainer.datamodule.test_dataloader():
                self.forward(x)
            for x, y in self.trainer.datamodule.test_dataloader():
                self.backbone(x)
    """
    assert [m.split(";")[0] for m in messages(source)] == [
        "LA302 evaluation loop runs self with autograd on",
        "LA302 evaluation loop runs self.backbone with autograd on",
    ]
