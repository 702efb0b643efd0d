"""Findings made in processes the Trainer started reach the Callback object the user holds.

With ``strategy="ddp_spawn"`` (and ``ddp_fork`` / ``ddp_notebook``) Lightning runs every rank in a
process it starts, on a copy of the Trainer and so of the Callback: the user's own Callback object,
in the launching process, never sees the run. Each copy carries the :class:`Handoff` its original
made: at the end of every run, rank zero of a started process writes its findings to the handoff's
file, and the original reads them from there the next time ``findings`` is asked for, then removes
the file. A process that made the Callback itself (a plain run, each rank of ``ddp`` started as a
script) writes nothing.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
import weakref
from typing import List, Sequence, Tuple

Record = Tuple[str, str, object]  # (code, message, location) of a finding


def _remove(path: str, pid: int) -> None:
    if os.getpid() == pid:
        try:
            os.unlink(path)
        except OSError:
            pass


class Handoff:
    """A file name only the Callback that made it, and its copies in started processes, know."""

    def __init__(self, owner: object) -> None:
        self.pid = os.getpid()
        self.path = os.path.join(tempfile.gettempdir(), f"lightning-advisor-{self.pid}-{uuid.uuid4().hex}.json")
        weakref.finalize(owner, _remove, self.path, self.pid)  # read or not, gone with the Callback

    def __getstate__(self) -> dict:
        return {"pid": self.pid, "path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.pid, self.path = state["pid"], state["path"]

    @property
    def in_started_process(self) -> bool:
        return os.getpid() != self.pid

    def send(self, findings: Sequence[Record]) -> None:
        """From a started process: all of this copy's findings so far, for the original."""
        if not self.in_started_process:
            return
        partial = f"{self.path}.{os.getpid()}"
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump([list(record) for record in findings], handle)
        os.replace(partial, self.path)  # the reader sees the whole list or none of it

    def receive(self) -> List[Record]:
        """In the Callback's own process: what a started process sent since, once."""
        if self.in_started_process or not os.path.exists(self.path):
            return []
        try:
            with open(self.path, encoding="utf-8") as handle:
                records = [tuple(record) for record in json.load(handle)]
            os.unlink(self.path)
        except (OSError, ValueError):
            return []
        return records  # type: ignore[return-value]
