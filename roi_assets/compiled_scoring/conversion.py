"""Converters from the training libraries to ONNX, used at training time only."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from skl2onnx import to_onnx
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.ensemble import RandomForestClassifier
from torch import nn

from roi_assets.compiled_scoring.encoding import NotCompilable

# The opsets ONNX Runtime 1.2x runs natively; TreeEnsembleClassifier with double thresholds needs
# ai.onnx.ml 3.
ONNX_OPSET = 17
ONNX_ML_OPSET = 3


def export_forest(forest: RandomForestClassifier, n_features: int, path: Path) -> None:
    """A fitted binary forest as ONNX: input `features` (n, n_features) float64, outputs `label`
    and `probabilities` (n, 2), without the ZipMap that would return dictionaries."""
    if len(forest.classes_) != 2:
        raise NotCompilable("only a binary forest compiles")
    model = to_onnx(
        forest,
        initial_types=[("features", DoubleTensorType([None, n_features]))],
        options={id(forest): {"zipmap": False}},
        target_opset={"": ONNX_OPSET, "ai.onnx.ml": ONNX_ML_OPSET},
    )
    path.write_bytes(model.SerializeToString())


def export_network(
    network: nn.Module, example: np.ndarray, path: Path, *, input_name: str, output_name: str
) -> None:
    """A torch network in evaluation mode as ONNX, the batch dimension left free.

    torch's TorchScript-based exporter: it writes LSTMs as ONNX's LSTM operator without the
    onnxscript stack the newer exporter needs; its deprecation warning is expected here.
    """
    network = network.to("cpu").eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network,
            (torch.as_tensor(example),),
            buffer,
            dynamo=False,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes={input_name: {0: "rows"}, output_name: {0: "rows"}},
            opset_version=ONNX_OPSET,
        )
    path.write_bytes(buffer.getvalue())
