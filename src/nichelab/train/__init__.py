"""Training: the one-seed reference loop and the vectorised many-seed ensemble."""
from .config import OPTIMIZERS, TrainConfig, epoch_orders, threads
from .divergence import RULE as DIVERGENCE_RULE, diverged_seeds, nonfinite_rows
from .ensemble import EnsembleResult, ensemble_forward, train_ensemble
from .loop import TrainResult, train_one

__all__ = ["OPTIMIZERS", "TrainConfig", "epoch_orders", "EnsembleResult", "ensemble_forward",
           "train_ensemble", "TrainResult", "train_one", "threads",
           "DIVERGENCE_RULE", "diverged_seeds", "nonfinite_rows"]
