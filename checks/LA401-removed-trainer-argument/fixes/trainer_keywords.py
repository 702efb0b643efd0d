# fix: safe
import pytorch_lightning as pl
from pytorch_lightning import Trainer
from pytorch_lightning.callbacks import ModelCheckpoint

checkpoints = ModelCheckpoint(monitor="val_loss")

one_gpu = Trainer(gpus=1, max_epochs=3)  # the device arguments
tpus = Trainer(tpu_cores=8)
no_gpu = pl.Trainer(
    gpus=0,
    max_epochs=3,
)
quiet = Trainer(progress_bar_refresh_rate=0, checkpoint_callback=False, weights_summary=None)
renamed = Trainer(replace_sampler_ddp=False, distributed_backend="ddp", reload_dataloaders_every_epoch=True)
strategy = Trainer(accelerator="ddp", gpus=2)
progress = Trainer(
    callbacks=[checkpoints],  # existing callbacks stay
    progress_bar_refresh_rate=20,
)
never_tuned = Trainer(auto_lr_find=True, auto_scale_batch_size="power", terminate_on_nan=False)

resumed = Trainer(resume_from_checkpoint="last.ckpt", max_epochs=10)
resumed.fit(object())

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
