"""The LSTM member of the churn ensemble: 30 days × 15 daily metrics → churn probability.

Shape as the specification draws it: LSTM(128, returning sequences) → dropout 0.2 → LSTM(64) →
dropout 0.2 → dense 32 relu → dense 1 sigmoid, trained with Adam on binary cross-entropy and
stopped early on a time-later validation slice of the training rows (the latest snapshot dates),
so it is judged on the future it will face rather than on shuffled neighbours of its training rows.

Input preparation, fitted on training rows only and stored with the weights:
- every metric except `support_sentiment` is a non-negative count or duration with a long right
  tail, so it goes through log1p first; `support_sentiment` (−1..1) stays as it is;
- then each metric is standardised with its mean and standard deviation over all training days.

Churn is rare, so by default positives are weighted by negatives/positives in the loss (the
counterpart of the forest's class_weight='balanced'), and when the training set exceeds
`max_train_rows` every positive is kept (up to half the cap) and negatives are sampled at random.
Both shift the LSTM's raw probabilities upwards; the stacking meta-learner recalibrates them.

Training precision: on a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX), the training
passes run under torch's bfloat16 autocast, the weights and the optimiser staying in float32
(`benchmarks/churn_training.py`: the LSTM alone 1.4–1.8× faster, the same AUC on every window).
Elsewhere training stays in float32: without those instructions bfloat16 is converted in
software, which was not measured to pay. Validation and prediction always run in float32, so
scores agree with the compiled (ONNX) scoring.

Reproducible on CPU: weights, dropout masks and batch order come from `seed` alone (the global
torch random state is left untouched); a machine with native bfloat16 and one without train
slightly different weights from the same seed. On CUDA the model runs when
`torch.cuda.is_available()`; cuDNN's LSTM kernels are not bit-for-bit deterministic, so only CPU
runs repeat exactly.

torch sizes its thread pool from the core count and ignores OMP_THREAD_LIMIT (which the tests
set, and an operator may). With the limit below torch's count, some of torch's OpenMP kernels
silently leave part of their output unwritten: on the default world thousands of the LSTM's
predictions came back NaN, a different number each run. So fitting and predicting first cap
torch's threads at the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from roi_assets.churn.features import DAILY_METRICS, SEQUENCE_DAYS, as_days

LOG_SCALED_METRICS: tuple[bool, ...] = tuple(name != "support_sentiment" for name in DAILY_METRICS)


@dataclass(frozen=True)
class LSTMParams:
    """Architecture (the specification's by default) and training budget of the LSTM member."""

    lstm_units: int = 128
    second_lstm_units: int = 64
    dense_units: int = 32
    dropout: float = 0.2
    learning_rate: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 10
    patience: int = 3
    validation_fraction: float = 0.2
    max_train_rows: int = 15_000
    balance_classes: bool = True
    prediction_batch_size: int = 4096
    device: str | None = None
    # "bfloat16", "float32", or None: bfloat16 where the CPU computes it natively (see above)
    training_precision: str | None = None


class ChurnLSTM(nn.Module):
    """The network alone; it returns logits, and `SequenceChurnModel` applies the sigmoid.

    Training on logits with BCEWithLogitsLoss is the numerically stable form of
    sigmoid + binary cross-entropy; the two LSTMs are separate modules because their widths differ.
    """

    def __init__(self, params: LSTMParams) -> None:
        super().__init__()
        self.first = nn.LSTM(len(DAILY_METRICS), params.lstm_units, batch_first=True)
        self.second = nn.LSTM(params.lstm_units, params.second_lstm_units, batch_first=True)
        self.dropout = nn.Dropout(params.dropout)
        self.dense = nn.Linear(params.second_lstm_units, params.dense_units)
        self.output = nn.Linear(params.dense_units, 1)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.first(sequences)
        _, (last_state, _) = self.second(self.dropout(hidden))
        features = torch.relu(self.dense(self.dropout(last_state[-1])))
        return self.output(features).squeeze(-1)


def respect_openmp_thread_limit() -> None:
    """Lower torch's thread count to OMP_THREAD_LIMIT when it is set and lower (see above)."""
    limit = os.environ.get("OMP_THREAD_LIMIT", "").strip()
    if limit.isdigit() and 0 < int(limit) < torch.get_num_threads():
        torch.set_num_threads(int(limit))


BFLOAT16 = "bfloat16"
FLOAT32 = "float32"


def training_precision(params: LSTMParams, device: torch.device) -> str:
    """The precision the training passes run in: the configured one, or bfloat16 on a CPU whose
    instructions compute it natively (torch's own capability report) and float32 otherwise."""
    if params.training_precision is not None:
        if params.training_precision not in (BFLOAT16, FLOAT32):
            raise ValueError(f"training_precision must be {BFLOAT16!r}, {FLOAT32!r} or None")
        return params.training_precision
    if device.type != "cpu":
        return FLOAT32
    capabilities = torch.cpu.get_capabilities()
    native = capabilities.get("avx512_bf16") or capabilities.get("amx_bf16")
    return BFLOAT16 if native else FLOAT32


def _choose_device(requested: str | None) -> torch.device:
    if requested is not None:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def time_later_validation_mask(dates: np.ndarray, validation_fraction: float) -> np.ndarray:
    """Validation rows for early stopping: the latest snapshot dates that hold at least
    `validation_fraction` of the rows, never every date. A single date leaves nothing later to
    validate on, so then no row is held out and training runs for max_epochs."""
    distinct = np.unique(dates)
    if len(distinct) < 2 or validation_fraction <= 0:
        return np.zeros(len(dates), dtype=bool)
    rows_from_date_on = np.cumsum(np.bincount(np.searchsorted(distinct, dates))[::-1])[::-1]
    eligible = np.flatnonzero(rows_from_date_on >= validation_fraction * len(dates))
    cutoff = distinct[max(int(eligible[-1]), 1)]
    return dates >= cutoff


class SequenceChurnModel:
    """Fits and applies the LSTM member, including its input scaling."""

    def __init__(self, params: LSTMParams | None = None, seed: int = 0) -> None:
        self.params = params or LSTMParams()
        self.seed = seed
        self.device = _choose_device(self.params.device)
        self.network: ChurnLSTM | None = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.epochs_trained = 0
        self.trained_in: str | None = None  # the precision of the last fit

    def fit(
        self, sequences: np.ndarray, labels: np.ndarray, snapshot_dates: Any
    ) -> SequenceChurnModel:
        """Train on (n, 30, 15) sequences; `snapshot_dates` decide the validation slice."""
        _check_sequences(sequences)
        respect_openmp_thread_limit()
        labels = np.asarray(labels, dtype=np.float32)
        dates = as_days(snapshot_dates)
        if not len(sequences) == len(labels) == len(dates):
            raise ValueError("sequences, labels and snapshot_dates must have the same length")
        rng = np.random.default_rng(self.seed)
        rows = self._training_rows(labels, rng)
        sequences, labels, dates = sequences[rows], labels[rows], dates[rows]

        is_validation = time_later_validation_mask(dates, self.params.validation_fraction)
        train_x, train_y = sequences[~is_validation], labels[~is_validation]
        logged = _log_scale(train_x)
        self.mean = logged.mean(axis=(0, 1), dtype=np.float64).astype(np.float32)
        self.std = logged.std(axis=(0, 1), dtype=np.float64).astype(np.float32)
        self.std[self.std == 0] = 1.0

        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.network = ChurnLSTM(self.params).to(self.device)
            self._train(
                self.network,
                self._to_tensor(train_x),
                torch.as_tensor(train_y, device=self.device),
                self._to_tensor(sequences[is_validation]),
                torch.as_tensor(labels[is_validation], device=self.device),
                rng,
            )
        return self

    def predict_proba(self, sequences: np.ndarray) -> np.ndarray:
        """Churn probability per sequence (float64, shape (n,))."""
        if self.network is None:
            raise RuntimeError("the LSTM member is not fitted")
        _check_sequences(sequences)
        respect_openmp_thread_limit()
        self.network.eval()
        chunks = []
        with torch.no_grad():
            for start in range(0, len(sequences), self.params.prediction_batch_size):
                batch = self._to_tensor(
                    sequences[start : start + self.params.prediction_batch_size]
                )
                chunks.append(torch.sigmoid(self.network(batch)).cpu().numpy())
        return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)

    def save(self, path: Path) -> None:
        """Weights and scaling as a plain tensor file (loadable with weights_only=True)."""
        if self.network is None:
            raise RuntimeError("the LSTM member is not fitted")
        torch.save(
            {
                "state_dict": {k: v.cpu() for k, v in self.network.state_dict().items()},
                "mean": torch.as_tensor(self.mean),
                "std": torch.as_tensor(self.std),
            },
            path,
        )

    @classmethod
    def load(cls, path: Path, params: LSTMParams, seed: int) -> SequenceChurnModel:
        """Rebuild a model written by `save` on this machine's device."""
        model = cls(params, seed)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model._restore(state)
        return model

    def __getstate__(self) -> dict[str, Any]:
        # Pickle the weights as CPU tensors so the model unpickles on machines without a GPU.
        state = {k: v for k, v in self.__dict__.items() if k not in ("network", "device")}
        if self.network is not None:
            state["state_dict"] = {k: v.cpu() for k, v in self.network.state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("state_dict", None)
        self.__dict__.update(state)
        self.device = _choose_device(self.params.device)
        self.network = None
        if weights is not None:
            self._restore({"state_dict": weights, "mean": self.mean, "std": self.std})

    def _restore(self, state: dict[str, Any]) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float32)
        self.std = np.asarray(state["std"], dtype=np.float32)
        self.network = ChurnLSTM(self.params)
        self.network.load_state_dict(state["state_dict"])
        self.network.to(self.device).eval()

    def _training_rows(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """All rows, or every positive (up to half the cap) plus random negatives up to the cap;
        returned in their original order so the time-later split still sees time order."""
        cap = self.params.max_train_rows
        if len(labels) <= cap:
            return np.arange(len(labels))
        positives = np.flatnonzero(labels == 1)
        negatives = np.flatnonzero(labels == 0)
        positives = rng.choice(positives, size=min(len(positives), cap // 2), replace=False)
        negatives = rng.choice(
            negatives, size=min(len(negatives), cap - len(positives)), replace=False
        )
        return np.sort(np.concatenate([positives, negatives]))

    def _to_tensor(self, sequences: np.ndarray) -> torch.Tensor:
        scaled = (_log_scale(sequences) - self.mean) / self.std
        return torch.as_tensor(scaled, dtype=torch.float32, device=self.device)

    def _train(
        self,
        network: ChurnLSTM,
        train_x: torch.Tensor,
        train_y: torch.Tensor,
        valid_x: torch.Tensor,
        valid_y: torch.Tensor,
        rng: np.random.Generator,
    ) -> None:
        positives = float(train_y.sum())
        weight = (len(train_y) - positives) / positives if positives else 1.0
        loss_fn = nn.BCEWithLogitsLoss(
            pos_weight=torch.tensor(
                weight if self.params.balance_classes else 1.0, device=self.device
            )
        )
        optimizer = torch.optim.Adam(network.parameters(), lr=self.params.learning_rate)
        best_loss, best_state, stale_epochs = float("inf"), None, 0
        self.epochs_trained = 0
        self.trained_in = training_precision(self.params, self.device)
        in_bfloat16 = torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.trained_in == BFLOAT16
        )
        for _ in range(self.params.max_epochs):
            network.train()
            order = torch.as_tensor(rng.permutation(len(train_y)), device=self.device)
            for start in range(0, len(order), self.params.batch_size):
                batch = order[start : start + self.params.batch_size]
                optimizer.zero_grad()
                with in_bfloat16:
                    logits = network(train_x[batch])
                loss_fn(logits.float(), train_y[batch]).backward()
                optimizer.step()
            self.epochs_trained += 1
            if len(valid_y) == 0:
                continue
            valid_loss = self._validation_loss(network, loss_fn, valid_x, valid_y)
            if valid_loss < best_loss:
                best_loss, stale_epochs = valid_loss, 0
                best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            else:
                stale_epochs += 1
                if stale_epochs >= self.params.patience:
                    break
        if best_state is not None:
            network.load_state_dict(best_state)
        network.eval()

    def _validation_loss(
        self,
        network: ChurnLSTM,
        loss_fn: nn.BCEWithLogitsLoss,
        valid_x: torch.Tensor,
        valid_y: torch.Tensor,
    ) -> float:
        """Mean loss over the validation slice, computed in chunks to bound memory."""
        network.eval()
        total = 0.0
        size = self.params.prediction_batch_size
        with torch.no_grad():
            for start in range(0, len(valid_y), size):
                chunk = slice(start, start + size)
                total += float(loss_fn(network(valid_x[chunk]), valid_y[chunk])) * len(
                    valid_y[chunk]
                )
        return total / len(valid_y)


def _log_scale(sequences: np.ndarray) -> np.ndarray:
    return np.where(LOG_SCALED_METRICS, np.log1p(np.maximum(sequences, 0)), sequences).astype(
        np.float32
    )


def _check_sequences(sequences: np.ndarray) -> None:
    expected = (SEQUENCE_DAYS, len(DAILY_METRICS))
    if sequences.ndim != 3 or sequences.shape[1:] != expected:
        raise ValueError(
            f"expected sequences of shape (n, {expected[0]}, {expected[1]}), got {sequences.shape}"
        )
