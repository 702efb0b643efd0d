# fix: safe
from torch.utils.data import DataLoader, RandomSampler
from torchvision.datasets import MNIST

val_set = MNIST("data", train=False)
test_set = MNIST("data", train=False)
options = {"shuffle": True, "num_workers": 4}

val_loader = DataLoader(val_set, batch_size=64, shuffle=True, num_workers=4)  # keeps this comment
test_loader = DataLoader(
    test_set,
    64,
    True,  # positional shuffle
    num_workers=4,
)
# Not fixed: the sampler, and a shuffle from options other loaders may share, are the user's to change.
val_sampled = DataLoader(val_set, sampler=RandomSampler(val_set), num_workers=4)
val_options = DataLoader(val_set, **options)
