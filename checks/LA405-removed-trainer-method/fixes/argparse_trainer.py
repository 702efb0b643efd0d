# fix: unsafe
from argparse import ArgumentParser

from pytorch_lightning import Trainer


def main(argv=None):
    parser = ArgumentParser()
    parser.add_argument("--batch_size", type=int, default=32)
    parser = Trainer.add_argparse_args(parser)  # Trainer options on the command line
    args = parser.parse_args(argv)
    trainer = Trainer.from_argparse_args(
        args,
        max_epochs=5,  # keyword arguments stay, as written
    )
    return trainer, args.batch_size


def quiet(args):
    return Trainer.from_argparse_args(args)


def other_parser():
    # Not fixed: the call binds a new name, and a block would be left empty.
    base = ArgumentParser()
    extended = Trainer.add_argparse_args(base)
    if extended:
        Trainer.add_argparse_args(base)
    return extended
