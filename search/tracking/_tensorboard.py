"""TensorBoard: per-epoch scalars of each trial in ``RUN/tensorboard/trial_ID/`` and the
HParams plugin's experiment config and sessions, written with TensorBoard's own event
writer (no TensorFlow: it works on every Keras backend)."""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path
from typing import Any

import keras_tuner as kt

from search.storage import RunFolder
from search.tracking._spec import RecordSource, stamp_seconds
from search.tuners import Observer

LOGDIR = "tensorboard"
"""The run folder's TensorBoard log directory."""
METRICS = ("val_accuracy", "val_loss", "accuracy", "loss")
"""The metrics the HParams table shows, each a scalar of every trial."""
_NOT_SCALARS = ("epoch", "seconds", "restored")
_EVENTS = "events.out.tfevents.*"
FILE_VERSION = "brain.Event:2"
"""The event format TensorBoard reads (what its own writers put first in a file)."""


def trial_dir(root: Path, trial_id: str) -> Path:
    return root / f"trial_{trial_id}"


def _hparam(name: str, spec: dict[str, Any]) -> Any:
    """The HParams plugin's description of one search-space parameter."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    kind = spec.get("type")
    if kind == "float":
        return hp.HParam(name, hp.RealInterval(float(spec["low"]), float(spec["high"])))
    if kind == "int":
        return hp.HParam(name, hp.IntInterval(int(spec["low"]), int(spec["high"])))
    if kind == "bool":
        return hp.HParam(name, hp.Discrete([False, True]))
    values = spec.get("values")
    if kind == "choice" and values and len({type(v) for v in values}) == 1:
        return hp.HParam(name, hp.Discrete(list(values)))
    return hp.HParam(name)


def _session_end(record: dict[str, Any]) -> Any:
    """The summary closing a trial's HParams session."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    code = api_pb2.STATUS_SUCCESS if record["status"] in ("completed", "pruned") else api_pb2.STATUS_FAILURE
    info = plugin_data_pb2.SessionEndInfo(status=code, end_time_secs=_seconds(record.get("finished")))
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=metadata.SESSION_END_INFO_TAG,
        metadata=metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(session_end_info=info)),
        tensor=metadata.NULL_TENSOR,
    )
    return summary


class _Events:
    """One event file in ``folder``, in TensorBoard's record format.

    TensorBoard's EventFileWriter opens files through ``tf.io.gfile``, which imports
    TensorFlow whenever it is installed; its RecordWriter over a plain file does not."""

    _serial = itertools.count()

    def __init__(self, folder: Path) -> None:
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        folder.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}"
        self.writer = RecordWriter(open(folder / f"{name}.{next(self._serial)}", "wb"))
        self._write(event_pb2.Event(wall_time=time.time(), file_version=FILE_VERSION))

    def add(self, summary: Any, step: int = 0) -> None:
        from tensorboard.compat.proto import event_pb2

        self._write(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def _write(self, event: Any) -> None:
        self.writer.write(event.SerializeToString())
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class TensorBoardTracker(Observer):
    """An observer of the search writing each trial's HParams session and epoch scalars."""

    def __init__(
        self,
        folder: RunFolder,
        recorder: RecordSource,
        space: dict[str, Any],
        objective: str = "val_accuracy",
    ) -> None:
        """``space``: the search space as run.json keeps it (name -> type, range, values);
        ``objective``: the metric the search ranks by, shown per trial with its training
        counterpart besides accuracy and loss."""
        self.root = folder.path / LOGDIR
        self.recorder = recorder
        self._open: dict[str, _Events] = {}
        self._fresh: set[str] = set()  # trials whose events began in this process
        if not any(self.root.glob(_EVENTS)):
            write_config(self.root, space, objective)

    def catch_up(self, trials: list[dict[str, Any]]) -> int:
        """Write the trials that ended before TensorBoard tracked the run (a rerun or resume
        given ``--track tensorboard``) whole: hyperparameters, epochs and end.

        Args:
            trials: trials.json's records; running ones and those already written are skipped.

        Returns:
            How many trials were written.
        """
        written = 0
        for record in trials:
            folder = trial_dir(self.root, record["id"])
            if record["status"] == "running" or any(folder.glob(_EVENTS)):
                continue
            events = _Events(folder)
            events.add(_session_start(record, folder.name))
            for entry in record["epochs"]:
                _add_scalars(events, entry)
            events.add(_session_end(record))
            events.close()
            written += 1
        return written

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        record = self.recorder.records[trial.trial_id]
        folder = trial_dir(self.root, trial.trial_id)
        fresh = not any(folder.glob(_EVENTS))  # else: run again after an interruption
        events = _Events(folder)
        if fresh:
            events.add(_session_start(record, folder.name))
            self._fresh.add(trial.trial_id)
        self._open[trial.trial_id] = events

    def epoch_end(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        events = self._open.get(trial.trial_id)
        if events is not None:
            _add_scalars(events, self.recorder.records[trial.trial_id]["epochs"][-1])

    def epoch_restored(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        """An epoch taken back after a resume: its scalars were written before, unless the
        trial's earlier process did not track TensorBoard."""
        events = self._open.get(trial.trial_id)
        if events is not None and trial.trial_id in self._fresh:
            _add_scalars(events, self.recorder.records[trial.trial_id]["epochs"][-1])

    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        events = self._open.pop(trial.trial_id, None)
        self._fresh.discard(trial.trial_id)
        record = self.recorder.records.get(trial.trial_id)
        if events is None:
            return
        if record is not None:
            events.add(_session_end(record))
        events.close()


def _session_start(record: dict[str, Any], name: str) -> Any:
    """The summary opening a trial's HParams session: its hyperparameters of plain types."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    values = {k: v for k, v in record["hyperparameters"].items() if isinstance(v, (bool, int, float, str))}
    return hp.hparams_pb(values, trial_id=name, start_time_secs=_seconds(record.get("started")))


def _seconds(stamp: str | None) -> float:
    """:func:`stamp_seconds`, now where the record has no time."""
    seconds = stamp_seconds(stamp)
    return time.time() if seconds is None else seconds


def _add_scalars(events: _Events, entry: dict[str, Any]) -> None:
    """One epoch's metrics of trials.json, each a scalar at ``step`` = the epoch."""
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb

    for key, value in entry.items():
        if key not in _NOT_SCALARS and isinstance(value, (int, float)):
            events.add(scalar_pb(key, float(value)), step=int(entry["epoch"]))


def write_config(root: Path, space: dict[str, Any], objective: str = "val_accuracy") -> None:
    """The HParams experiment: the space's parameters and the metrics shown per trial
    (:data:`METRICS`, and ``objective`` with its training counterpart where they differ).

    Args:
        root: the run's TensorBoard folder (made if missing); a new event file is written in it.
        space: the search space as run.json keeps it (name -> type, range, values).
        objective: the metric the search ranks by.
    """
    from tensorboard.plugins.hparams import summary_v2 as hp

    hparams = [_hparam(name, spec) for name, spec in space.items()]
    names = dict.fromkeys([*METRICS, objective, objective.removeprefix("val_")])
    metrics = [hp.Metric(name) for name in names]
    events = _Events(root)
    events.add(hp.hparams_config_pb(hparams, metrics))
    events.close()
