# fix: safe
import pytorch_lightning as pl
from pytorch_lightning import Trainer
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.callbacks import TQDMProgressBar

checkpoints = ModelCheckpoint(monitor="val_loss")

one_gpu = Trainer(accelerator="gpu", devices=1, max_epochs=3)  # the device arguments
tpus = Trainer(accelerator="tpu", devices=8)
no_gpu = pl.Trainer(
    gpus=0,
    max_epochs=3,
)
quiet = Trainer(enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False)
renamed = Trainer(use_distributed_sampler=False, strategy="ddp", reload_dataloaders_every_n_epochs=1)
strategy = Trainer(strategy="ddp", accelerator="gpu", devices=2)
progress = Trainer(
    callbacks=[checkpoints, TQDMProgressBar(refresh_rate=20)],  # existing callbacks stay
)
never_tuned = Trainer()

resumed = Trainer(max_epochs=10)
resumed.fit(object(), ckpt_path="last.ckpt")

# Not fixed: advice that is not an exact equivalent, values we cannot see, keywords already passed.
nan_check = Trainer(terminate_on_nan=True)
options = {"gpus": 1}
from_options = Trainer(**options)
both = Trainer(gpus=2, devices=2)
cpu = Trainer(gpus=None)  # 1.x: the CPU; without it, 2.x's accelerator="auto" takes a GPU where there is one

callback = Trainer(checkpoint_callback=checkpoints)
twice = Trainer(resume_from_checkpoint="a.ckpt")
twice.fit(object())
twice.fit(object())


def from_args(args):
    return Trainer(gpus=args.gpus, accelerator=None)  # not fixed: devices=0 would fail where gpus=0 ran on the CPU
