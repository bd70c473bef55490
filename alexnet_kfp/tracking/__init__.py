"""Experiment tracking with MLflow, only when a tracking URI is set: by KFP's MLflow plugin (which
injects MLFLOW_TRACKING_URI and the task's run as MLFLOW_RUN_ID), by the user's environment, or
by `alexnet-kfp run --mlflow URI`. Without one nothing here imports mlflow.

    with tracked("train") as tracker:
        tracker.params({...}); tracker.metrics({...}, step=epoch)

A tracker that is down or slow never fails or stalls a step: every call is bounded and the first
failure ends the step's logging with one warning line (session.py).
"""

from alexnet_kfp.tracking.environment import is_model_uri, tracking_uri
from alexnet_kfp.tracking.session import Tracker, tracked

__all__ = ["Tracker", "tracked", "tracking_uri", "is_model_uri"]
