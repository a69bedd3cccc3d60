"""The document classifier of the specification: TF-IDF on OCR text plus CNN page-image features,
both fed to LightGBM.

- Text: `TfidfVectorizer(max_features=5000, ngram_range=(1, 3))` over the OCR text.
- Image: the class probabilities of `image_features.PageCNN` on the first page's thumbnail,
  cross-fitted: the rows LightGBM trains on get out-of-fold probabilities, new documents the mean
  of the fold networks (see `image_features` for why this avoids leakage).
- Booster: `LGBMClassifier(num_leaves=50, learning_rate=0.05, n_estimators=200)`;
  `min_child_samples` is lowered from LightGBM's 20 to 5 because a type may have only a few dozen
  training documents, and with 20 the booster could not split on them at all. Each tree sees a
  random 30 % of the features (`colsample_bytree`), so the booster spreads over many n-grams
  instead of leaning on a few title words that a damaged scan may not yield: on OCR text of
  simulated scans, held-out accuracy went from 15-16 of 16 to 16 of 16 over three splits, and
  from 20-22 of 22 and 24-27 of 27 to all correct on larger archives.

The `features` switch trains the same classifier on text only or image only, which is how the
evaluation compares the combination with each half (`compare_variants`). Metrics are computed
with scikit-learn here; the shared evaluation module can read the same reports.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import train_test_split

from roi_assets.documents.image_features import CnnConfig, CnnEnsemble, fit_cnn_ensemble

DOCUMENT_TYPES: tuple[str, ...] = (
    "purchase_agreement",
    "listing_agreement",
    "disclosure_form",
    "inspection_report",
    "mortgage_docs",
    "title_docs",
    "tax_records",
    "hoa_docs",
    "other",
)
FEATURE_SETS = ("combined", "text", "image")
# A classification less sure than this is checked by a person (the mart and the API both flag it).
REVIEW_BELOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class ClassifierConfig:
    max_features: int = 5000
    ngram_range: tuple[int, int] = (1, 3)
    num_leaves: int = 50
    learning_rate: float = 0.05
    n_estimators: int = 200
    min_child_samples: int = 5
    colsample_bytree: float = 0.3
    cnn_folds: int = 3
    cnn: CnnConfig = field(default_factory=CnnConfig)
    seed: int = 7
    n_jobs: int = 1  # LightGBM threads; one keeps training reproducible and leaves cores free


class DocumentClassifier:
    """Fit on (OCR texts, first-page thumbnails, type labels); predict types with confidence."""

    def __init__(self, config: ClassifierConfig | None = None, features: str = "combined"):
        if features not in FEATURE_SETS:
            raise ValueError(f"features must be one of {FEATURE_SETS}")
        self.config = config or ClassifierConfig()
        self.features = features
        self.vectorizer: TfidfVectorizer | None = None
        self.cnn: CnnEnsemble | None = None
        self.booster: lgb.LGBMClassifier | None = None

    @property
    def uses_text(self) -> bool:
        return self.features in ("combined", "text")

    @property
    def uses_image(self) -> bool:
        return self.features in ("combined", "image")

    def _stack(self, text_part: sp.csr_matrix | None, image_part: np.ndarray | None):
        parts = [
            p
            for p in (text_part, None if image_part is None else sp.csr_matrix(image_part))
            if p is not None
        ]
        return sp.hstack(parts, format="csr").astype(np.float32)

    def fit(
        self,
        texts: Sequence[str],
        thumbnails: np.ndarray,
        labels: Sequence[str],
        cnn: CnnEnsemble | None = None,
    ) -> DocumentClassifier:
        """Train on documents whose types are known; `thumbnails` is (N, size, size).

        `cnn` reuses a network already cross-fitted on exactly these rows (see `fit_cnn`), so
        variants that share the image half do not train it twice.
        """
        cfg = self.config
        y = np.array([DOCUMENT_TYPES.index(label) for label in labels])
        text_part = image_part = None
        if self.uses_text:
            self.vectorizer = TfidfVectorizer(
                max_features=cfg.max_features, ngram_range=cfg.ngram_range
            )
            text_part = self.vectorizer.fit_transform(texts)
        if self.uses_image:
            self.cnn = cnn if cnn is not None else fit_cnn(thumbnails, labels, cfg)
            image_part = self.cnn.oof
        self.booster = lgb.LGBMClassifier(
            num_leaves=cfg.num_leaves,
            learning_rate=cfg.learning_rate,
            n_estimators=cfg.n_estimators,
            min_child_samples=cfg.min_child_samples,
            colsample_bytree=cfg.colsample_bytree,
            random_state=cfg.seed,
            n_jobs=cfg.n_jobs,
            deterministic=True,
            verbose=-1,
        )
        self.booster.fit(self._stack(text_part, image_part), y)
        return self

    def feature_matrix(self, texts: Sequence[str], thumbnails: np.ndarray) -> sp.csr_matrix:
        """The sparse matrix LightGBM reads for new documents: TF-IDF columns, then CNN ones."""
        if self.booster is None:
            raise RuntimeError("the classifier has not been fitted")
        text_part = self.vectorizer.transform(texts) if self.uses_text else None
        image_part = None
        if self.uses_image:
            image_part = self.cnn.predict_proba(thumbnails)
        return self._stack(text_part, image_part)

    def feature_names(self) -> list[str]:
        """A readable name per column of `feature_matrix`: `token:<n-gram>`, `image:<index>`."""
        if self.booster is None:
            raise RuntimeError("the classifier has not been fitted")
        names = []
        if self.uses_text:
            names += [f"token:{term}" for term in self.vectorizer.get_feature_names_out()]
        if self.uses_image:
            names += [f"image:{i}" for i in range(self.booster.n_features_in_ - len(names))]
        return names

    def predict_proba(self, texts: Sequence[str], thumbnails: np.ndarray) -> np.ndarray:
        """(N, 9) probabilities in the order of `DOCUMENT_TYPES` (0 for types never trained on)."""
        matrix = self.feature_matrix(texts, thumbnails)
        proba = self.booster.predict_proba(matrix)
        full = np.zeros((proba.shape[0], len(DOCUMENT_TYPES)))
        full[:, self.booster.classes_] = proba
        return full

    def predict(self, texts: Sequence[str], thumbnails: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Predicted type per document and its probability (the classification confidence)."""
        proba = self.predict_proba(texts, thumbnails)
        best = proba.argmax(axis=1)
        return [DOCUMENT_TYPES[i] for i in best], proba[np.arange(len(best)), best]

    def save(self, path: Path) -> None:
        """Pickle the fitted parts (the CNN as numpy weights, so loading needs no GPU)."""
        with Path(path).open("wb") as handle:
            pickle.dump(
                {
                    "config": self.config,
                    "features": self.features,
                    "vectorizer": self.vectorizer,
                    "cnn": self.cnn,
                    "booster": self.booster,
                },
                handle,
            )

    @classmethod
    def load(cls, path: Path) -> DocumentClassifier:
        """Load a classifier saved by `save` (pickle: only load files this product wrote)."""
        with Path(path).open("rb") as handle:
            parts = pickle.load(handle)
        model = cls(parts["config"], parts["features"])
        model.vectorizer = parts["vectorizer"]
        model.cnn = parts["cnn"]
        model.booster = parts["booster"]
        return model


def fit_cnn(
    thumbnails: np.ndarray, labels: Sequence[str], config: ClassifierConfig | None = None
) -> CnnEnsemble:
    """The cross-fitted page CNN for these training rows (shareable between variants)."""
    config = config or ClassifierConfig()
    y = np.array([DOCUMENT_TYPES.index(label) for label in labels])
    return fit_cnn_ensemble(
        thumbnails,
        y,
        len(DOCUMENT_TYPES),
        folds=config.cnn_folds,
        seed=config.seed,
        config=config.cnn,
    )


@dataclass(frozen=True)
class ClassificationReport:
    variant: str
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    confusion: list[list[int]]  # rows: true type, columns: predicted, in `labels` order
    labels: tuple[str, ...]
    n_train: int
    n_test: int

    def as_dict(self) -> dict:
        return asdict(self)


def classification_report(
    variant: str, y_true: Sequence[str], y_pred: Sequence[str], n_train: int
) -> ClassificationReport:
    """Accuracy, macro and per-class F1 and the confusion matrix over the nine types."""
    labels = list(DOCUMENT_TYPES)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    present = [t for t in labels if t in set(y_true) | set(y_pred)]
    return ClassificationReport(
        variant=variant,
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        per_class_f1={t: float(f) for t, f in zip(labels, per_class, strict=True)},
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        labels=tuple(labels),
        n_train=n_train,
        n_test=len(y_true),
    )


def compare_variants(
    texts: Sequence[str],
    thumbnails: np.ndarray,
    labels: Sequence[str],
    *,
    config: ClassifierConfig | None = None,
    test_size: float = 0.25,
) -> dict[str, ClassificationReport]:
    """Hold out a stratified test split; report the majority class, text alone, image alone and
    the combination on it."""
    config = config or ClassifierConfig()
    labels = list(labels)
    index = np.arange(len(labels))
    counts = np.unique(labels, return_counts=True)[1]
    stratify = labels if counts.min() >= 2 else None
    train, test = train_test_split(
        index, test_size=test_size, random_state=config.seed, stratify=stratify
    )
    train_texts = [texts[i] for i in train]
    test_texts = [texts[i] for i in test]
    y_train = [labels[i] for i in train]
    y_test = [labels[i] for i in test]
    values, counts = np.unique(y_train, return_counts=True)
    majority = str(values[np.argmax(counts)])
    reports = {
        "majority": classification_report("majority", y_test, [majority] * len(test), len(train))
    }
    cnn = fit_cnn(thumbnails[train], y_train, config)
    for features in ("text", "image", "combined"):
        model = DocumentClassifier(config, features).fit(
            train_texts, thumbnails[train], y_train, cnn=cnn
        )
        predicted, _ = model.predict(test_texts, thumbnails[test])
        reports[features] = classification_report(features, y_test, predicted, len(train))
    return reports
