"""Searches tracked where users already look: MLflow (``--track mlflow[=URI]``) and
TensorBoard (``--track tensorboard``), as observers of the search."""

from search.tracking._hooks import (
    check_stores,
    finish_tracking,
    send_run,
    stop_tracking,
    tracking_observers,
    tracking_uri,
)
from search.tracking._mlflow import MlflowSink, MlflowTracker, replay, trial_tags
from search.tracking._spec import TRACKERS, TrackSpec, check_mlflow, check_uri, parse_track, resolve_uri
from search.tracking._tensorboard import LOGDIR, TensorBoardTracker, write_config

__all__ = [
    "LOGDIR",
    "TRACKERS",
    "MlflowSink",
    "MlflowTracker",
    "TensorBoardTracker",
    "TrackSpec",
    "check_mlflow",
    "check_stores",
    "check_uri",
    "finish_tracking",
    "parse_track",
    "replay",
    "resolve_uri",
    "send_run",
    "stop_tracking",
    "tracking_observers",
    "tracking_uri",
    "trial_tags",
    "write_config",
]
