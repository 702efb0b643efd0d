"""The names both halves must agree on: Lightning and torch packages, data splits, stages, steps.

The flake8 plugin and the ``AdvisorCallback`` read these from here, so a word cannot drift
between the editor and the training log. Plain data only: flake8 imports this on every run.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Optional, Tuple

# -- packages ------------------------------------------------------------------------------------

LIGHTNING_NAMESPACES: Tuple[str, ...] = ("lightning.pytorch", "pytorch_lightning")
"""The two import paths of Lightning's Trainer API, newest first: the same classes shipped twice."""

FABRIC_OF: Dict[str, str] = {"lightning.pytorch": "lightning.fabric", "pytorch_lightning": "lightning_fabric"}
"""Each Lightning namespace's Fabric package, from the same distribution."""

LIGHTNING_PACKAGES: FrozenSet[str] = frozenset({"lightning", "pytorch_lightning", "lightning_fabric"})
"""Top-level packages of Lightning's distributions."""

TORCH_PACKAGE = "torch"

LIBRARY_PACKAGES: FrozenSet[str] = LIGHTNING_PACKAGES | {
    TORCH_PACKAGE,
    "lightning_utilities",
    "torchmetrics",
    "lightning_advisor",
}
"""Top-level packages whose code is never the user's: torch, Lightning, their helpers, this package."""


def top_package(module: str) -> str:
    """``"torch.utils.data"`` -> ``"torch"``."""
    return module.partition(".")[0]


def is_lightning_module_name(module: str) -> bool:
    return top_package(module) in ("lightning", "pytorch_lightning")


def is_torch_module_name(module: str) -> bool:
    return top_package(module) == TORCH_PACKAGE


def lightning_namespace(path: str) -> Optional[str]:
    """The Lightning namespace of a dotted path: ``"pytorch_lightning.core.lightning"`` -> ``"pytorch_lightning"``."""
    for namespace in LIGHTNING_NAMESPACES:
        if path == namespace or path.startswith(namespace + "."):
            return namespace
    return None


# -- Lightning classes ---------------------------------------------------------------------------

MODULE, DATAMODULE, CALLBACK, TRAINER = "LightningModule", "LightningDataModule", "Callback", "Trainer"
LIGHTNING_KINDS: Tuple[str, ...] = (MODULE, DATAMODULE, CALLBACK)
"""The Lightning base classes whose subclasses are Lightning code."""

# -- data splits and stages ----------------------------------------------------------------------

VALIDATION, TEST, PREDICTION, EVALUATION = "validation", "test", "prediction", "evaluation"
"""The words a message uses for a loader's split: ``"{split} DataLoader shuffles its data"``."""
TRAINING = "training"
"""The word for the training loader: ``"training DataLoader has num_workers=0"``."""

STAGE_SPLITS: Dict[str, str] = {"validate": VALIDATION, "test": TEST, "predict": PREDICTION}
"""The evaluation split each of the Callback's stages reads."""

LOADER_HOOKS: Dict[str, str] = {"val_dataloader": VALIDATION, "test_dataloader": TEST, "predict_dataloader": PREDICTION}
"""Lightning's hooks that build evaluation loaders, and the split they serve."""

STEP_METHODS: Dict[str, str] = {"train": "training_step", "validate": "validation_step", "test": "test_step"}
"""The step method whose output each stage's batch-end hook receives."""

# -- data augmentation ---------------------------------------------------------------------------

TRANSFORMS_PACKAGE = "torchvision.transforms"
"""torchvision's transforms, ``v2`` included: ``torchvision.transforms.v2._geometry.RandomCrop`` is one."""

RANDOM_TRANSFORMS: FrozenSet[str] = frozenset({
    # torchvision.transforms and torchvision.transforms.v2
    "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomResizedCrop", "RandomSizedCrop",
    "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine", "RandomPerspective",
    "RandomGrayscale", "RandomErasing", "RandomInvert", "RandomPosterize", "RandomSolarize",
    "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize", "ColorJitter", "ElasticTransform",
    "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix",
    # torchvision.transforms.v2 only
    "RandomIoUCrop", "RandomZoomOut", "RandomPhotometricDistort", "RandomChannelPermutation", "RandomResize",
    "RandomShortestSize", "ScaleJitter", "GaussianNoise", "CutMix", "MixUp",
})
"""Class names of torchvision's transforms that change each item at random (LA104): both halves match these."""

CHANCE_ONLY: Dict[str, int] = {
    "RandomHorizontalFlip": 0, "RandomVerticalFlip": 0, "RandomGrayscale": 0, "RandomInvert": 0,
    "RandomAutocontrast": 0, "RandomEqualize": 0, "RandomPosterize": 1, "RandomSolarize": 1,
    "RandomAdjustSharpness": 1,
}
"""Random transforms whose only randomness is whether they apply, with the position of that chance ``p``:
with ``p=0`` or ``p=1`` they are deterministic (``RandomHorizontalFlip(p=1.0)`` always flips)."""

TRANSFORM_PIPELINE = "Compose"
"""torchvision's container of transforms, applied in order; LA104 looks inside it."""
