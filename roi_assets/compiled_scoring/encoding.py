"""A fitted scikit-learn column transformer (and feature selector) as arrays.

`TabularEncoding.fit_from` reads the fitted `ColumnTransformer` of standard-scaled numbers and
one-hot categories, and an optional `SelectKBest`, and keeps, per model input column, either a
numeric source with its mean and scale or a categorical source with the one category it flags.
Encoding then needs no pandas: one row from a mapping (the request's values) or a whole frame
column by column. The arithmetic is scikit-learn's, in float64, so the encoded values are equal
bit for bit: `(x - mean) / scale`; a category outside the fitted ones encodes as all zeros, as
`handle_unknown="ignore"` does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


class NotCompilable(ValueError):
    """The fitted model holds a step the compiler does not know; nothing was compiled."""


@dataclass(frozen=True)
class TabularEncoding:
    """Per encoded column: a numeric source (mean, scale) or a categorical source (category)."""

    numeric_columns: tuple[str, ...]  # source of each numeric output
    numeric_positions: tuple[int, ...]  # where each numeric output lands
    means: tuple[float, ...]
    scales: tuple[float, ...]
    categorical_columns: tuple[str, ...]  # source of each one-hot output
    categorical_positions: tuple[int, ...]
    categories: tuple[str, ...]  # the category that output flags
    width: int
    # Every column the pipeline reads, selected or not: it refuses a row without one.
    input_columns: tuple[str, ...]

    @classmethod
    def fit_from(
        cls, preprocessor: ColumnTransformer, selector: Any | None = None
    ) -> TabularEncoding:
        outputs = _encoded_outputs(preprocessor)
        support = np.ones(len(outputs), bool) if selector is None else selector.get_support()
        if len(support) != len(outputs):
            raise NotCompilable("the selector was fitted on another encoding")
        kept = np.flatnonzero(support)
        numeric, categorical = [], []
        for position, index in enumerate(kept):
            source = outputs[int(index)]
            (numeric if source[0] == "numeric" else categorical).append((position, *source[1:]))
        return cls(
            numeric_columns=tuple(column for _, column, _, _ in numeric),
            numeric_positions=tuple(position for position, *_ in numeric),
            means=tuple(mean for *_, mean, _ in numeric),
            scales=tuple(scale for *_, scale in numeric),
            categorical_columns=tuple(column for _, column, _ in categorical),
            categorical_positions=tuple(position for position, *_ in categorical),
            categories=tuple(category for *_, category in categorical),
            width=len(kept),
            input_columns=tuple(
                str(column)
                for name, _, columns in preprocessor.transformers_
                if name != "remainder"
                for column in columns
            ),
        )

    def encode_row(self, values: Mapping[str, Any]) -> np.ndarray:
        """One request's values as a (1, width) float64 row; ValueError names a missing or
        non-finite value."""
        missing = [column for column in self.input_columns if values.get(column) is None]
        if missing:
            raise ValueError(f"missing feature value(s): {', '.join(missing)}")
        row = np.zeros((1, self.width))
        for position, column, mean, scale in zip(
            self.numeric_positions, self.numeric_columns, self.means, self.scales, strict=True
        ):
            value = values.get(column)
            if value is None or isinstance(value, str):
                raise ValueError(f"feature {column!r} must be a number, got {value!r}")
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"feature {column!r} must be finite, got {value!r}")
            row[0, position] = (number - mean) / scale
        for position, column, category in zip(
            self.categorical_positions, self.categorical_columns, self.categories, strict=True
        ):
            value = values.get(column)
            if not isinstance(value, str):
                raise ValueError(f"feature {column!r} must be a category (string), got {value!r}")
            row[0, position] = value == category
        return row

    def encode_frame(
        self, frame: pl.DataFrame | pd.DataFrame, dtype: type = np.float64
    ) -> np.ndarray:
        """Every row of a polars or pandas frame as an (n, width) matrix, computed in float64 and
        stored as `dtype` (float32 for trees that compare in float32: half the memory traffic)."""
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise ValueError(f"missing feature column(s): {', '.join(missing)}")
        if isinstance(frame, pl.DataFrame):
            return self._encode_polars(frame, dtype)
        matrix = np.empty((len(frame), self.width), dtype=dtype)
        numbers = {c: _numbers(frame, c) for c in dict.fromkeys(self.numeric_columns)}
        for position, column, mean, scale in zip(
            self.numeric_positions, self.numeric_columns, self.means, self.scales, strict=True
        ):
            matrix[:, position] = (numbers[column] - mean) / scale
        for position, column, category in zip(
            self.categorical_positions, self.categorical_columns, self.categories, strict=True
        ):
            matrix[:, position] = _flags(frame, column, category)
        return matrix

    def _encode_polars(self, frame: pl.DataFrame, dtype: type) -> np.ndarray:
        """The same arithmetic, matrix-wise: polars reads and checks the columns on every core
        and writes them row-major once (column by column into a row-major matrix is a strided
        write per column, most of a million-row batch's time), and numpy scales the matrix in
        place in one broadcast (polars divides by a scalar through its reciprocal, one ulp away
        from scikit-learn's division)."""
        numbers = dict.fromkeys(self.numeric_columns)
        bad = frame.select(
            *(
                pl.col(c).cast(pl.Float64).is_finite().fill_null(False).not_().sum().alias(c)
                for c in numbers
            ),
            *(pl.col(c).null_count().alias(c) for c in dict.fromkeys(self.categorical_columns)),
        ).row(0, named=True)
        for column, count in bad.items():
            if count:
                kind = "missing or infinite" if column in numbers else "missing"
                raise ValueError(f"column {column!r} holds {kind} values")
        # Every output column in its place, then one in-place scaling of the whole matrix (a
        # flag's mean is 0 and its scale 1, which leaves it as it is).
        columns: list[pl.Expr | None] = [None] * self.width
        means, scales = np.zeros(self.width), np.ones(self.width)
        for position, column, mean, scale in zip(
            self.numeric_positions, self.numeric_columns, self.means, self.scales, strict=True
        ):
            columns[position] = pl.col(column).cast(pl.Float64)
            means[position], scales[position] = mean, scale
        for position, column, category in zip(
            self.categorical_positions, self.categorical_columns, self.categories, strict=True
        ):
            columns[position] = (pl.col(column) == category).cast(pl.Float64)
        matrix = frame.select(
            expression.alias(f"_{position}") for position, expression in enumerate(columns)
        ).to_numpy(order="c")
        matrix -= means
        matrix /= scales
        return matrix.astype(dtype, copy=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "numeric": [
                {"column": c, "position": p, "mean": m, "scale": s}
                for c, p, m, s in zip(
                    self.numeric_columns,
                    self.numeric_positions,
                    self.means,
                    self.scales,
                    strict=True,
                )
            ],
            "one_hot": [
                {"column": c, "position": p, "category": v}
                for c, p, v in zip(
                    self.categorical_columns,
                    self.categorical_positions,
                    self.categories,
                    strict=True,
                )
            ],
            "width": self.width,
            "input_columns": list(self.input_columns),
        }

    @classmethod
    def from_json(cls, spec: Mapping[str, Any]) -> TabularEncoding:
        numeric, one_hot = spec["numeric"], spec["one_hot"]
        return cls(
            numeric_columns=tuple(item["column"] for item in numeric),
            numeric_positions=tuple(int(item["position"]) for item in numeric),
            means=tuple(float(item["mean"]) for item in numeric),
            scales=tuple(float(item["scale"]) for item in numeric),
            categorical_columns=tuple(item["column"] for item in one_hot),
            categorical_positions=tuple(int(item["position"]) for item in one_hot),
            categories=tuple(item["category"] for item in one_hot),
            width=int(spec["width"]),
            input_columns=tuple(spec["input_columns"]),
        )


def split_pipeline(pipeline: Pipeline) -> tuple[ColumnTransformer, Any | None, Any]:
    """(preprocessor, selector or None, final estimator) of a preprocess → [select →] model
    pipeline."""
    steps = [step for _, step in pipeline.steps if step not in (None, "passthrough")]
    if len(steps) not in (2, 3) or not isinstance(steps[0], ColumnTransformer):
        raise NotCompilable("expected a pipeline: column transformer → [selector →] model")
    selector = steps[1] if len(steps) == 3 else None
    if selector is not None and not hasattr(selector, "get_support"):
        raise NotCompilable(f"cannot compile the step {type(selector).__name__}")
    return steps[0], selector, steps[-1]


def _encoded_outputs(preprocessor: ColumnTransformer) -> list[tuple]:
    """One source per output column of the fitted transformer, in its output order."""
    if getattr(preprocessor, "remainder", "drop") != "drop" and any(
        name == "remainder" and columns for name, _, columns in preprocessor.transformers_
    ):
        raise NotCompilable("the column transformer passes a remainder through")
    outputs: list[tuple] = []
    for name, transformer, columns in preprocessor.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        if isinstance(transformer, StandardScaler):
            means = transformer.mean_ if transformer.with_mean else np.zeros(len(columns))
            scales = transformer.scale_ if transformer.with_std else np.ones(len(columns))
            outputs += [
                ("numeric", str(c), float(m), float(s))
                for c, m, s in zip(columns, means, scales, strict=True)
            ]
        elif isinstance(transformer, OneHotEncoder):
            outputs += _one_hot_outputs(transformer, columns)
        else:
            raise NotCompilable(f"cannot compile the transformer {type(transformer).__name__}")
    return outputs


def _one_hot_outputs(encoder: OneHotEncoder, columns: list[str]) -> list[tuple]:
    if encoder.handle_unknown != "ignore" or getattr(encoder, "_infrequent_enabled", False):
        raise NotCompilable("one-hot encoding must ignore unknown categories, without grouping")
    dropped = encoder.drop_idx_ if encoder.drop_idx_ is not None else [None] * len(columns)
    outputs = []
    for column, categories, drop in zip(columns, encoder.categories_, dropped, strict=True):
        outputs += [
            ("categorical", str(column), str(category))
            for index, category in enumerate(categories)
            if drop is None or index != drop
        ]
    return outputs


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column].to_numpy().astype(np.float64, copy=False)
    if not np.isfinite(values).all():
        raise ValueError(f"column {column!r} holds missing or infinite values")
    return values


def _flags(frame: pd.DataFrame, column: str, category: str) -> np.ndarray:
    series = frame[column]
    if series.isna().any():
        raise ValueError(f"column {column!r} has missing values")
    return (series == category).to_numpy()
