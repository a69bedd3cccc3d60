"""The churn ensemble: random forest + LSTM, stacked by a logistic regression on out-of-fold scores.

One ensemble per prediction window (30, 60 or 90 days), not one multi-output model: each window has
its own label, its own observable training rows (a 90-day label is known 60 days later than a
30-day one) and its own purge, and each is registered on its own (`roi-churn-30d`, ...) so a window
can be retrained, gated and rolled back without touching the others. The price is training three
forests and three LSTMs instead of one of each.

Fitting, given rows whose label is observed:
1. time-ordered folds over snapshot dates (see `folds.py`): for each fold a forest and an LSTM are
   trained only on snapshots more than `purge_days` (default: the window) before the fold and score
   the fold; rows before the first fold only ever train;
2. the meta-learner, `LogisticRegression()` as in the specification, is fitted on those out-of-fold
   scores alone, as logits so that its linear form matches how probabilities combine;
3. the calibrator (`churn.calibration`) is fitted on the meta-learner's probabilities of the latest
   out-of-fold block: rows the members that scored them never saw, purged like every fold, and
   the closest in time to what the model will score. The meta-learner weighs the members on every
   block; the calibrator then sets the level and spread of its probabilities on the latest one,
   where the base rate is nearest today's. A separate calibration window carved out of the
   training rows cost the stacks training snapshots and AUC (docs/benchmarks.md);
4. the final forest and LSTM are refitted on all rows; at scoring time their outputs go through
   the meta-learner and the calibrator. `predict_proba` and the `stack` of
   `member_probabilities` are the calibrated probabilities, `stack_uncalibrated` keeps the
   meta-learner's own.
`oof_` keeps, per out-of-fold row, the scores, the fold and the latest training snapshot used, so
the no-leakage property can be checked; `fit_seconds_` keeps the time each step took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from roi_assets.churn.calibration import DEFAULT_METHOD, ProbabilityCalibrator
from roi_assets.churn.features import (
    CHURN_FEATURES,
    DAILY_METRICS,
    PREDICTION_WINDOWS,
    as_days,
    tabular_matrix,
)
from roi_assets.churn.folds import Fold, InsufficientHistory, time_ordered_folds
from roi_assets.churn.sequence_model import LSTMParams, SequenceChurnModel
from roi_assets.distributed.cluster import run_tasks

FOREST_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "max_depth": 10,
    "min_samples_split": 20,
    "class_weight": "balanced",
    "n_jobs": 1,
}
FORMAT_VERSION = 2
# Format 1 had no calibrator: such an ensemble scores with the meta-learner's probabilities.
READABLE_FORMATS = (1, 2)
STACK = "stack"
UNCALIBRATED = "stack_uncalibrated"
# skops refuses unknown types on load; a fitted forest holds sklearn Tree objects and nothing else.
TRUSTED_SKOPS_TYPES = frozenset({"sklearn.tree._tree.Tree"})
_PROBABILITY_CLIP = 1e-6


def registered_model_name(window_days: int) -> str:
    """Name under which the ensemble of one window is registered, e.g. roi-churn-30d."""
    return f"roi-churn-{window_days}d"


@dataclass(frozen=True)
class OutOfFoldPredictions:
    """Member scores the meta-learner was fitted on, one entry per out-of-fold row."""

    rows: np.ndarray  # positions in the arrays given to fit
    snapshot_dates: np.ndarray
    fold: np.ndarray
    max_train_snapshot: np.ndarray  # latest snapshot date the scoring members were trained on
    forest: np.ndarray
    lstm: np.ndarray
    labels: np.ndarray

    def stack_inputs(self) -> np.ndarray:
        return stack_inputs(self.forest, self.lstm)

    @classmethod
    def concatenate(cls, parts: list[OutOfFoldPredictions]) -> OutOfFoldPredictions:
        return cls(
            **{
                field.name: np.concatenate([getattr(part, field.name) for part in parts])
                for field in fields(cls)
            }
        )


def stack_inputs(forest: np.ndarray, lstm: np.ndarray) -> np.ndarray:
    """The meta-learner's design matrix: the members' probabilities as logits."""
    probabilities = np.clip(
        np.column_stack([forest, lstm]), _PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP
    )
    return np.log(probabilities / (1 - probabilities))


class ChurnEnsemble:
    """Churn probability for one prediction window from tabular features and daily sequences."""

    def __init__(
        self,
        window_days: int = 30,
        seed: int = 0,
        rf_params: Mapping[str, Any] | None = None,
        lstm_params: LSTMParams | Mapping[str, Any] | None = None,
        n_folds: int = 3,
        purge_days: int | None = None,
    ) -> None:
        if window_days not in PREDICTION_WINDOWS:
            raise ValueError(f"window_days must be one of {PREDICTION_WINDOWS}")
        self.window_days = window_days
        self.seed = seed
        self.rf_params = {**FOREST_PARAMS, **(rf_params or {})}
        self.lstm_params = (
            lstm_params
            if isinstance(lstm_params, LSTMParams)
            else LSTMParams(**(lstm_params or {}))
        )
        self.n_folds = n_folds
        self.purge_days = window_days if purge_days is None else purge_days
        self.folds_: list[Fold] = []
        self.oof_: OutOfFoldPredictions | None = None
        self.fit_seconds_: dict[str, float] = {}
        self.forest_: RandomForestClassifier | None = None
        self.lstm_: SequenceChurnModel | None = None
        self.meta_learner_: LogisticRegression | None = None
        self.calibrator_: ProbabilityCalibrator | None = None
        self.calibration_dates_: np.ndarray = np.array([], dtype="datetime64[D]")

    def fit(
        self,
        tabular: Any,
        sequences: np.ndarray,
        labels: Any,
        snapshot_dates: Any,
        calibration_method: str = DEFAULT_METHOD,
    ) -> ChurnEnsemble:
        """Fit members out of fold, the meta-learner on their scores, the calibrator on the latest
        out-of-fold block, then the final members.

        `tabular` holds CHURN_FEATURES (polars/pandas frame or (n, 20) array), `sequences` comes
        from `build_sequences`, `labels` is the window's 0/1 label (rows with unobserved labels
        must be dropped first) and `snapshot_dates` orders the rows in time.
        """
        features = tabular_matrix(tabular)
        labels = np.asarray(labels, dtype=np.float64)
        dates = as_days(snapshot_dates)
        if not len(features) == len(sequences) == len(labels) == len(dates):
            raise ValueError("tabular, sequences, labels and snapshot_dates differ in length")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be 0 or 1; drop rows whose window is not yet observed")
        labels = labels.astype(np.int64)
        self.fit_seconds_ = {"forest_oof": 0.0, "lstm_oof": 0.0}
        self.folds_ = time_ordered_folds(dates, self.n_folds, self.purge_days)

        # each fold's members train as a task of their own on a Dask cluster when configured
        scored = run_tasks(self._score_fold, self.folds_, features, sequences, labels, dates)
        for _, forest_seconds, lstm_seconds in scored:
            self.fit_seconds_["forest_oof"] += forest_seconds
            self.fit_seconds_["lstm_oof"] += lstm_seconds
        parts = [part for part, _, _ in scored if part is not None]
        if not parts:
            raise InsufficientHistory("no fold had both classes in its training rows")
        self.oof_ = OutOfFoldPredictions.concatenate(parts)
        if len(np.unique(self.oof_.labels)) < 2:
            raise InsufficientHistory(
                "out-of-fold rows hold a single class; the meta-learner cannot fit"
            )

        started = time.perf_counter()
        self.meta_learner_ = LogisticRegression().fit(self.oof_.stack_inputs(), self.oof_.labels)
        self.fit_seconds_["meta"] = time.perf_counter() - started
        started = time.perf_counter()
        self._calibrate_on_latest_block(calibration_method)
        self.fit_seconds_["calibration"] = time.perf_counter() - started

        started = time.perf_counter()
        self.forest_ = self._fit_forest(features, labels)
        self.fit_seconds_["forest_final"] = time.perf_counter() - started
        started = time.perf_counter()
        self.lstm_ = SequenceChurnModel(self.lstm_params, self.seed).fit(sequences, labels, dates)
        self.fit_seconds_["lstm_final"] = time.perf_counter() - started
        return self

    def _calibrate_on_latest_block(self, method: str) -> None:
        """Fit the calibrator on the meta-learner's probabilities of the latest out-of-fold block,
        or of every block when the latest holds a single outcome (short histories)."""
        oof = self.oof_
        rows = oof.fold == oof.fold.max()
        if len(np.unique(oof.labels[rows])) < 2:
            rows = np.ones_like(rows)
        raw = self.meta_learner_.predict_proba(oof.stack_inputs()[rows])[:, 1]
        self.calibrator_ = ProbabilityCalibrator.fit(raw, oof.labels[rows], method)
        self.calibration_dates_ = np.unique(oof.snapshot_dates[rows])

    def member_probabilities(self, tabular: Any, sequences: np.ndarray) -> dict[str, np.ndarray]:
        """Probabilities of the forest, the LSTM, the stack as the meta-learner gives it
        (`stack_uncalibrated`) and the calibrated stack (`stack`; the meta-learner's own for an
        ensemble saved before calibration existed), so each can be evaluated alone."""
        if self.forest_ is None or self.lstm_ is None or self.meta_learner_ is None:
            raise RuntimeError("the ensemble is not fitted")
        features = tabular_matrix(tabular)
        if len(features) != len(sequences):
            raise ValueError("tabular and sequences differ in length")
        forest = self.forest_.predict_proba(features)[:, 1]
        lstm = self.lstm_.predict_proba(sequences)
        raw = self.meta_learner_.predict_proba(stack_inputs(forest, lstm))[:, 1]
        calibrated = raw if self.calibrator_ is None else self.calibrator_.transform(raw)
        return {"forest": forest, "lstm": lstm, UNCALIBRATED: raw, STACK: calibrated}

    def predict_proba(self, tabular: Any, sequences: np.ndarray) -> np.ndarray:
        """Churn probability within `window_days` per row (the calibrated stack's output)."""
        return self.member_probabilities(tabular, sequences)[STACK]

    def save(self, directory: str | Path) -> Path:
        """Write the fitted ensemble as plain files: settings (JSON), forest and meta-learner
        (skops), LSTM weights and scaling (torch tensors). `load` reads them back without pickle."""
        if self.forest_ is None or self.lstm_ is None or self.meta_learner_ is None:
            raise RuntimeError("the ensemble is not fitted")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        settings = {
            "format_version": FORMAT_VERSION,
            "window_days": self.window_days,
            "seed": self.seed,
            "rf_params": self.rf_params,
            "lstm_params": asdict(self.lstm_params),
            "n_folds": self.n_folds,
            "purge_days": self.purge_days,
            "calibrator": None if self.calibrator_ is None else self.calibrator_.to_dict(),
            "churn_features": list(CHURN_FEATURES),
            "daily_metrics": list(DAILY_METRICS),
            "folds": [
                {
                    "test_dates": [str(day) for day in fold.test_dates],
                    "train_before": str(fold.train_before),
                }
                for fold in self.folds_
            ],
        }
        (directory / "ensemble.json").write_text(json.dumps(settings, indent=2))
        sio.dump(self.forest_, directory / "forest.skops")
        sio.dump(self.meta_learner_, directory / "meta_learner.skops")
        self.lstm_.save(directory / "lstm.pt")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ChurnEnsemble:
        """Read an ensemble written by `save`, ready to score (out-of-fold records are not kept)."""
        directory = Path(directory)
        settings = json.loads((directory / "ensemble.json").read_text())
        if settings["format_version"] not in READABLE_FORMATS:
            raise ValueError(f"unsupported churn ensemble format {settings['format_version']}")
        if (
            tuple(settings["churn_features"]) != CHURN_FEATURES
            or tuple(settings["daily_metrics"]) != DAILY_METRICS
        ):
            raise ValueError("saved ensemble was trained on other feature columns")
        ensemble = cls(
            window_days=settings["window_days"],
            seed=settings["seed"],
            rf_params=settings["rf_params"],
            lstm_params=settings["lstm_params"],
            n_folds=settings["n_folds"],
            purge_days=settings["purge_days"],
        )
        ensemble.folds_ = [
            Fold(
                number,
                tuple(np.datetime64(day, "D") for day in fold["test_dates"]),
                np.datetime64(fold["train_before"], "D"),
            )
            for number, fold in enumerate(settings["folds"])
        ]
        calibrator = settings.get("calibrator")
        if calibrator is not None:
            ensemble.calibrator_ = ProbabilityCalibrator.from_dict(calibrator)
        ensemble.forest_ = _load_skops(directory / "forest.skops")
        ensemble.meta_learner_ = _load_skops(directory / "meta_learner.skops")
        ensemble.lstm_ = SequenceChurnModel.load(
            directory / "lstm.pt", ensemble.lstm_params, ensemble.seed
        )
        return ensemble

    def _fit_forest(self, features: np.ndarray, labels: np.ndarray) -> RandomForestClassifier:
        """The forest grown on every core, then set back to score on `rf_params`' jobs. Its trees
        are independent and seeded up front, so the forest is the one a single core grows."""
        forest = RandomForestClassifier(random_state=self.seed, **self.rf_params)
        forest.set_params(n_jobs=-1).fit(features, labels)
        return forest.set_params(n_jobs=self.rf_params["n_jobs"])

    def _score_fold(
        self,
        fold: Fold,
        features: np.ndarray,
        sequences: np.ndarray,
        labels: np.ndarray,
        dates: np.ndarray,
    ) -> tuple[OutOfFoldPredictions | None, float, float]:
        """Train both members on the fold's training rows and score its test rows; also the
        seconds each member took."""
        train, test = fold.train_mask(dates), np.flatnonzero(fold.test_mask(dates))
        if len(np.unique(labels[train])) < 2:
            return None, 0.0, 0.0
        started = time.perf_counter()
        forest = self._fit_forest(features[train], labels[train])
        forest_scores = forest.predict_proba(features[test])[:, 1]
        forest_seconds = time.perf_counter() - started
        started = time.perf_counter()
        lstm = SequenceChurnModel(self.lstm_params, self.seed).fit(
            sequences[train], labels[train], dates[train]
        )
        lstm_scores = lstm.predict_proba(sequences[test])
        lstm_seconds = time.perf_counter() - started
        predictions = OutOfFoldPredictions(
            rows=test,
            snapshot_dates=dates[test],
            fold=np.full(len(test), fold.number),
            max_train_snapshot=np.full(len(test), dates[train].max()),
            forest=forest_scores,
            lstm=lstm_scores,
            labels=labels[test],
        )
        return predictions, forest_seconds, lstm_seconds


def _load_skops(path: Path) -> Any:
    untrusted = set(sio.get_untrusted_types(file=path))
    unexpected = untrusted - TRUSTED_SKOPS_TYPES
    if unexpected:
        raise ValueError(f"{path.name} holds types that are not trusted: {sorted(unexpected)}")
    return sio.load(path, trusted=sorted(untrusted))
