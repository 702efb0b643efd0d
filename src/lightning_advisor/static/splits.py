"""Does a name say "evaluation data"? ``val_loader``, ``self.testset``, ``validDL``...

Identifiers are split on underscores, camelCase and digits; a word counts when
it is an evaluation word, alone or glued to a data suffix (``valloader``,
``testset``). A name that also says "train" (``train_val_loader``) is mixed and
counts as nothing.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

from lightning_advisor.static.names import identifier_words
from lightning_advisor.vocabulary import EVALUATION, PREDICTION, TEST, VALIDATION

_SPLITS = {
    "val": VALIDATION,
    "vali": VALIDATION,
    "valid": VALIDATION,
    "validation": VALIDATION,
    "dev": VALIDATION,
    "holdout": VALIDATION,
    "heldout": VALIDATION,
    "test": TEST,
    "tst": TEST,
    "testing": TEST,
    "eval": EVALUATION,
    "evaluation": EVALUATION,
    "predict": PREDICTION,
    "prediction": PREDICTION,
    "pred": PREDICTION,
    "inference": PREDICTION,
}
_TRAIN = {"train", "training", "trn", "trainval"}
_SUFFIXES = ("dataloaders", "dataloader", "loaders", "loader", "datasets", "dataset", "data", "sets", "set", "ds", "dl")


def _word_split(word: str) -> Optional[str]:
    if word in _SPLITS:
        return _SPLITS[word]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and word[: -len(suffix)] in _SPLITS:
            return _SPLITS[word[: -len(suffix)]]
    return None


def _is_train(word: str) -> bool:
    return word in _TRAIN or any(word.endswith(s) and word[: -len(s)] in _TRAIN for s in _SUFFIXES)


@lru_cache(maxsize=4096)
def split_of(identifier: str) -> Optional[str]:
    """``"validation"``, ``"test"``, ``"evaluation"`` or ``"prediction"`` if the name says so."""
    found = None
    for word in identifier_words(identifier):
        if _is_train(word):
            return None
        found = found or _word_split(word)
    return found


def says_train(identifier: str) -> bool:
    """The name mentions training data (``train_loader``, ``trainval_ds``)."""
    return any(_is_train(w) for w in identifier_words(identifier))
