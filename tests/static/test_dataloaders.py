"""LA101 / LA102 details that fixtures cannot show: file names, and the evidence LA102 needs."""
import pytest

from rulebook import codes

LOADER = """\
from torch.utils.data import DataLoader
from torchvision.datasets import MNIST
loader = DataLoader(MNIST("data", transform=None), batch_size=8)
"""


@pytest.mark.parametrize("filename", ["tests/test_data.py", "test_loaders.py", "pkg/tests/helpers.py",
                                      "loaders_test.py", "conftest.py", "test/data.py"])
def test_la102_leaves_test_files_alone(filename):
    assert codes(LOADER, filename=filename) == []


@pytest.mark.parametrize("filename", ["train.py", "src/pkg/data.py", "testing_utils.py", "latest/train.py"])
def test_la102_in_other_files(filename):
    assert codes(LOADER, filename=filename) == [(3, "LA102")]


def test_a_constant_none_transform_is_no_evidence_but_a_torchvision_dataset_is():
    """``transform=None`` says nothing; MNIST itself does (it converts every item)."""
    source = LOADER.replace('MNIST("data", transform=None)', 'Folder("data", transform=None)')
    assert codes(source) == []
