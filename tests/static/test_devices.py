"""LA201 / LA202: how device calls are resolved, run through the flake8 plugin in-process."""
import pytest

from rulebook import codes as findings, messages


@pytest.mark.parametrize(
    "imports, base",
    [
        ("import lightning as L", "L.LightningModule"),
        ("import lightning.pytorch as pl", "pl.LightningModule"),
        ("import pytorch_lightning as pl", "pl.LightningModule"),
        ("from lightning.pytorch import LightningModule as LM", "LM"),
        ("from pytorch_lightning.core.module import LightningModule", "LightningModule"),
        ("from lightning.pytorch.callbacks import Callback", "Callback"),
        ("from pytorch_lightning import LightningDataModule", "LightningDataModule"),
    ],
)
def test_cuda_call_in_every_lightning_namespace(imports, base):
    source = f"""
    import torch
    {imports}

    class Thing({base}):
        def hook(self, batch):
            return batch.cuda()
    """
    assert findings(source) == [(7, "LA201")]


def test_cuda_call_in_nested_function_and_subclass_of_local_module():
    source = """
    import torch
    import lightning as L

    class Base(L.LightningModule):
        pass

    class Child(Base):
        def training_step(self, batch, batch_idx):
            def move(x):
                return x.cuda(0)
            return move(batch)
    """
    assert findings(source) == [(11, "LA201")]


def test_model_cuda_in_script_that_builds_a_trainer():
    source = """
    import torch
    from pytorch_lightning import Trainer

    model = torch.nn.Linear(2, 2)
    model.cuda()
    Trainer(accelerator="gpu").fit(model)
    """
    assert findings(source) == [(6, "LA201")]


def test_plain_pytorch_is_never_reported():
    source = """
    import torch

    class Net(torch.nn.Module):
        def forward(self, x):
            return x.cuda() + torch.zeros(1, device="cuda") + x.to("cuda:0")

    Net().cuda()
    """
    assert findings(source) == []


def test_non_lightning_class_beside_a_lightning_one_is_quiet():
    source = """
    import torch
    import lightning as L

    class Helper(torch.nn.Module):
        def forward(self, x):
            return x.cuda()

    class Lit(L.LightningModule):
        def forward(self, x):
            return x.to("cuda")
    """
    assert findings(source) == [(11, "LA202")]


def test_torch_cuda_module_functions_and_uncalled_attribute_are_quiet():
    source = """
    import torch
    import torch as T
    import lightning as L

    class Lit(L.LightningModule):
        def on_fit_start(self):
            if T.cuda.is_available() and torch.cuda.device_count():
                torch.cuda.synchronize(device="cuda:0")
            self.mover = self.layer.cuda
    """
    assert findings(source) == []


def test_cuda_override_body_is_quiet():
    source = """
    import lightning as L

    class Lit(L.LightningModule):
        def cuda(self, device=None):
            return super().cuda(device)
    """
    assert findings(source) == []


def test_hard_coded_devices_and_their_messages():
    source = """
    import torch
    import lightning as L

    class Lit(L.LightningModule):
        def training_step(self, batch, batch_idx):
            a = batch.to("cuda")
            b = batch.to("cuda:0", non_blocking=True)
            c = batch.to(torch.device("cuda"))
            d = batch.to(device="cuda:1")
            e = torch.zeros(3, device="cuda")
            f = torch.device("cuda", 2)
            g = batch.new_ones(3, device=f)
            return a, b, c, d, e, g
    """
    assert findings(source) == [(line, "LA202") for line in (7, 8, 9, 10, 11, 13)]
    devices = [message.split("'")[1] for message in messages(source)]
    assert devices == ["cuda", "cuda:0", "cuda", "cuda:1", "cuda", "cuda:2"]
    assert messages(source)[0] == (
        "LA202 hard-coded device 'cuda' in Lightning code; use self.device, x.device or type_as"
    )


def test_torch_resolved_through_import_aliases():
    source = """
    import torch as T
    from torch import nn, tensor
    from torch import device as Device
    import lightning as L

    class Lit(L.LightningModule):
        def setup(self, stage):
            self.a = T.zeros(2, device="cuda")
            self.b = tensor([1.0], device="cuda:1")
            self.c = nn.Linear(2, 2, device=Device("cuda"))
    """
    assert findings(source) == [(9, "LA202"), (10, "LA202"), (11, "LA202")]


def test_users_own_factory_is_not_torch():
    source = """
    import torch
    import lightning as L

    def zeros(*shape, device=None):
        return shape, device

    class Lit(L.LightningModule):
        def setup(self, stage):
            self.a = zeros(2, device="cuda")
            self.b = make_buffer(device="cuda")
    """
    assert findings(source) == []


def test_module_constant_local_name_and_attribute_devices():
    source = """
    import torch
    import lightning as L

    DEVICE = "cuda:0"

    class Lit(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.gpu = torch.device("cuda")

        def training_step(self, batch, batch_idx):
            dev = "cuda"
            x = batch.to(DEVICE)
            y = torch.ones(3, device=self.gpu)
            z = batch.to(dev)
            return x, y, z
    """
    assert findings(source) == [(14, "LA202"), (15, "LA202"), (16, "LA202")]


@pytest.mark.parametrize(
    "expression",
    [
        "batch.to(self.device)",
        "batch.to(batch.device)",
        "batch.type_as(self.weight)",
        "torch.zeros(3, device=self.device)",
        'batch.to("cpu")',
        "batch.to(torch.float16)",
        'batch.to("cuda" if torch.cuda.is_available() else "cpu")',
        "batch.to(torch.device('cuda' if torch.cuda.is_available() else 'cpu'))",
        "batch.to(device)",
        "batch.to(SOMETIMES)",
        'batch.to(**{"device": "cuda"})',
        'L.Trainer(accelerator="cuda", devices=1)',
    ],
)
def test_unknown_or_right_devices_are_quiet(expression):
    source = f"""
    import torch
    import lightning as L

    SOMETIMES = "cuda"
    SOMETIMES = "cpu"

    class Lit(L.LightningModule):
        def training_step(self, batch, batch_idx, device="cuda"):
            return {expression}
    """
    assert findings(source) == []


def test_one_finding_per_call_and_both_codes_on_one_line():
    source = """
    import torch
    import lightning as L

    class Lit(L.LightningModule):
        def training_step(self, batch, batch_idx):
            return batch.cuda("cuda:0").to(device="cuda")
    """
    assert findings(source) == [(7, "LA201"), (7, "LA202")]


@pytest.mark.parametrize(
    "expression, device",
    [
        ('f"cuda:{self.local_rank}"', "cuda:{self.local_rank}"),
        ('f"cuda"', "cuda"),
        ("torch.device('cuda', self.local_rank)", "cuda:{self.local_rank}"),
        ('f"{kind}:0"', None),
        ('f"cu{x}"', None),
    ],
)
def test_device_built_around_a_literal_cuda(expression, device):
    source = f"""
    import torch
    import lightning as L

    class Lit(L.LightningModule):
        def training_step(self, batch, batch_idx, kind, x):
            return batch.to({expression})
    """
    expected = [f"LA202 hard-coded device {device!r} in Lightning code; use self.device, x.device or type_as"]
    assert messages(source) == (expected if device else [])


def test_lambda_parameter_and_global_rebinding_hide_a_module_constant():
    source = """
    import lightning as L

    dev = "cuda"
    DEVICE = "cuda"

    def use_cpu():
        global DEVICE
        DEVICE = "cpu"

    class Lit(L.LightningModule):
        def training_step(self, batch, batch_idx):
            move = lambda dev: batch.to(dev)
            return move(self.device).to(DEVICE)
    """
    assert findings(source) == []


def test_a_lightning_base_in_a_src_layout_package_is_found_from_any_working_directory(tmp_path):
    """``src/pkg/train.py`` imports ``pkg.models``: resolved from the file's own package, not from the cwd."""
    from rulebook import flake8

    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("import lightning as L\n\n\nclass Base(L.LightningModule):\n    pass\n")
    (package / "train.py").write_text(
        "import torch\nfrom pkg.models import Base\n\n\nclass Net(Base):\n    def forward(self, x):\n"
        "        return x.cuda()\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = flake8("--isolated", "--select", "LA", str(package / "train.py"), cwd=elsewhere)
    assert result.stdout.startswith(f"{package / 'train.py'}:7:16: LA201 "), result.stdout + result.stderr


def test_stdin_without_a_display_name_finds_a_src_layout_base_from_the_project_root(tmp_path):
    """An editor piping the buffer with no file name, from the project's root: ``pkg`` is under ``src/``."""
    from rulebook import flake8

    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("import lightning as L\n\n\nclass Base(L.LightningModule):\n    pass\n")
    source = "from pkg.models import Base\n\n\nclass Net(Base):\n    def forward(self, x):\n        return x.cuda()\n"
    result = flake8("--isolated", "--select", "LA", "-", stdin=source, cwd=tmp_path)
    assert result.stdout.startswith("stdin:6:16: LA201 "), result.stdout + result.stderr
    # from somewhere else, nothing says what pkg is: quiet
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert flake8("--isolated", "--select", "LA", "-", stdin=source, cwd=elsewhere).stdout == ""
