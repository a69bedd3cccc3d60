"""Page-image features for the document classifier: a small CNN trained here on page thumbnails.

No pretrained weights can be downloaded, and none are needed: the layout of a first page (a title
band, a letterhead, a grid of table cells, a column of tick boxes, signature lines) tells the
types apart at 128x128 already, and a four-layer network learns it from a few hundred pages in
seconds on a CPU. Thumbnails are inverted (ink 1, paper 0) and contrast-stretched per page, so a
faint or grey scan looks like a clean one.

The features handed to the gradient-boosted classifier are the CNN's class probabilities. The
network is cross-fitted (`fit_cnn_ensemble`): for the rows the booster trains on, each page's
probabilities come from the fold network that never saw it, so the booster learns how far the CNN
can be trusted on unseen pages, which is what it meets in production; new pages get the mean of
the fold networks. Probabilities rather than embeddings, because each fold's network has its own
embedding space while class probabilities mean the same thing for every network.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold
from torch import nn

THUMBNAIL_SIZE = 128


def page_thumbnail(page: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """A float32 `size` x `size` view of a grayscale page: ink near 1, paper near 0."""
    small = cv2.resize(page, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    ink = (255.0 - small) / 255.0
    paper, dark = np.percentile(ink, [50, 99.5])
    if dark - paper < 1e-3:
        return np.zeros((size, size), np.float32)
    return np.clip((ink - paper) / (dark - paper), 0.0, 1.0).astype(np.float32)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with `n` torch threads, then restore the previous count. On a machine whose
    cores are busy (OCR workers, other jobs), one thread trains this network fastest: idle
    worker threads spin while waiting, and a fold that takes seconds on one thread was measured
    taking minutes on two."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class PageCNN(nn.Module):
    """A 4x4 stride-4 "patchify" stem (the 128x128 thumbnail becomes 32x32 learned patches, which
    keeps CPU training to seconds), three convolution blocks, a coarse 2x2 spatial pool (where
    things are on the page matters), a 32-wide embedding and a linear layer to the classes."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
            padding = kernel // 2 if stride == 1 else 0
            return [
                nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]

        self.features = nn.Sequential(
            *block(1, 8, 4, 4),  # 128 -> 32
            *block(8, 16, 3, 1),
            nn.MaxPool2d(2),  # -> 16
            *block(16, 32, 3, 1),
            nn.MaxPool2d(2),  # -> 8
            *block(32, 32, 3, 1),
            nn.AdaptiveAvgPool2d(2),  # -> 2x2
            nn.Flatten(),
        )
        self.embedding = nn.Sequential(
            nn.Linear(32 * 4, 32), nn.ReLU(inplace=True), nn.Dropout(0.2)
        )
        self.head = nn.Linear(32, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(self.features(x)))


@dataclass(frozen=True)
class CnnConfig:
    epochs: int = 20
    min_steps: int = 120  # small training sets get more epochs: a network needs updates, not passes
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    max_shift: int = 4  # pixels of random translation per batch (scans are never placed alike)


def _shift(batch: torch.Tensor, rng: np.random.Generator, max_shift: int) -> torch.Tensor:
    if max_shift == 0:
        return batch
    dy, dx = (int(v) for v in rng.integers(-max_shift, max_shift + 1, 2))
    return torch.roll(batch, shifts=(dy, dx), dims=(2, 3))


def train_cnn(
    thumbnails: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    seed: int,
    config: CnnConfig | None = None,
    device: str | None = None,
) -> PageCNN:
    """Train a `PageCNN` on (N, size, size) thumbnails and integer labels."""
    config = config or CnnConfig()
    device = device or default_device()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PageCNN(n_classes).to(device)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    batches = max(1, int(np.ceil(len(labels) / config.batch_size)))
    epochs = max(config.epochs, int(np.ceil(config.min_steps / batches)))
    steps = epochs * batches
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, config.learning_rate, total_steps=steps
    )
    x_all = torch.from_numpy(np.ascontiguousarray(thumbnails, np.float32)).unsqueeze(1).to(device)
    y_all = torch.from_numpy(np.asarray(labels, np.int64)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(labels))).to(device)
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            optimiser.zero_grad()
            loss = loss_fn(model(_shift(x_all[idx], rng, config.max_shift)), y_all[idx])
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    return model.cpu()


@torch.no_grad()
def cnn_proba(model: PageCNN, thumbnails: np.ndarray, device: str | None = None) -> np.ndarray:
    """Class probabilities (N, n_classes) of a trained network."""
    device = device or default_device()
    model = model.to(device).eval()
    out = []
    for start in range(0, len(thumbnails), 256):
        x = torch.from_numpy(np.ascontiguousarray(thumbnails[start : start + 256], np.float32))
        out.append(torch.softmax(model(x.unsqueeze(1).to(device)), dim=1).cpu().numpy())
    model.cpu()
    return np.concatenate(out) if out else np.zeros((0, model.head.out_features), np.float32)


def model_state(model: PageCNN) -> dict[str, np.ndarray]:
    """Weights as numpy arrays: picklable without torch device state."""
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def model_from_state(state: dict[str, np.ndarray], n_classes: int) -> PageCNN:
    model = PageCNN(n_classes)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return model.eval()


@dataclass
class CnnEnsemble:
    """The fold networks of a cross-fitted CNN and the out-of-fold probabilities they gave.

    `oof[i]` comes from the network that did not see page i; new pages get the mean of all fold
    networks (which also spares training a separate final network).
    """

    n_classes: int
    fold_states: list[dict[str, np.ndarray]]
    oof: np.ndarray

    def predict_proba(self, thumbnails: np.ndarray, device: str | None = None) -> np.ndarray:
        probas = [
            cnn_proba(model_from_state(state, self.n_classes), thumbnails, device)
            for state in self.fold_states
        ]
        return np.mean(probas, axis=0)


def fit_cnn_ensemble(
    thumbnails: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    folds: int,
    seed: int,
    config: CnnConfig | None = None,
    device: str | None = None,
) -> CnnEnsemble:
    """Cross-fit: one network per stratified fold, each scoring the pages it did not train on."""
    labels = np.asarray(labels)
    counts = np.bincount(labels)
    present = counts[counts > 0]
    folds = max(2, min(folds, int(present.min())))
    # stratification needs some class with a member per fold; with one page per class (tiny
    # corpora) the folds are drawn plainly
    splitter = (
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        if present.max() >= folds
        else KFold(n_splits=folds, shuffle=True, random_state=seed)
    )
    oof = np.zeros((len(labels), n_classes), np.float32)
    with warnings.catch_warnings():
        # a class seen once cannot be in every fold; its page is then scored by a network that
        # never saw the class, which is the honest out-of-fold answer
        warnings.filterwarnings("ignore", message="The least populated class")
        splits = list(splitter.split(thumbnails, labels))
    states = []
    for fold, (train, held_out) in enumerate(splits):
        model = train_cnn(
            thumbnails[train],
            labels[train],
            n_classes,
            seed=seed + fold,
            config=config,
            device=device,
        )
        oof[held_out] = cnn_proba(model, thumbnails[held_out], device)
        states.append(model_state(model))
    return CnnEnsemble(n_classes, states, oof)


def thumbnails_of(pages: Sequence[np.ndarray], size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """Stack of thumbnails, one per page given (usually each document's first page)."""
    if not pages:
        return np.zeros((0, size, size), np.float32)
    return np.stack([page_thumbnail(page, size) for page in pages])
