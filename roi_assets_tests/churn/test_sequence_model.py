import pickle

import numpy as np
import pytest
import torch
from torch import nn

from roi_assets.churn.sequence_model import (
    ChurnLSTM,
    LSTMParams,
    SequenceChurnModel,
    respect_openmp_thread_limit,
    time_later_validation_mask,
    training_precision,
)


def _subset(world, size=600):
    rows = np.arange(size)
    return (
        world.sequences[rows],
        world.churn["churned_within_30d"].to_numpy()[rows],
        world.churn["snapshot_date"].to_numpy()[rows],
    )


def test_the_default_network_has_the_specifications_shape():
    network = ChurnLSTM(LSTMParams())

    assert (network.first.input_size, network.first.hidden_size) == (15, 128)
    assert (network.second.input_size, network.second.hidden_size) == (128, 64)
    assert (network.dense.in_features, network.dense.out_features) == (64, 32)
    assert network.output.out_features == 1
    assert isinstance(network.dropout, nn.Dropout) and network.dropout.p == 0.2


def test_the_same_seed_gives_identical_predictions_and_another_seed_does_not(world, tiny_lstm):
    sequences, labels, dates = _subset(world)

    first = SequenceChurnModel(tiny_lstm, seed=5).fit(sequences, labels, dates)
    again = SequenceChurnModel(tiny_lstm, seed=5).fit(sequences, labels, dates)
    other = SequenceChurnModel(tiny_lstm, seed=6).fit(sequences, labels, dates)

    np.testing.assert_array_equal(first.predict_proba(sequences), again.predict_proba(sequences))
    assert not np.allclose(first.predict_proba(sequences), other.predict_proba(sequences))


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [
        ({"avx512_bf16": True, "amx_bf16": False}, "bfloat16"),
        ({"avx512_bf16": False, "amx_bf16": True}, "bfloat16"),
        ({"avx512_bf16": False, "amx_bf16": False}, "float32"),
        ({}, "float32"),
    ],
)
def test_training_runs_in_bfloat16_only_where_the_cpu_computes_it_natively(
    monkeypatch, capabilities, expected
):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)

    assert training_precision(LSTMParams(), torch.device("cpu")) == expected
    assert training_precision(LSTMParams(), torch.device("cuda")) == "float32"
    configured = LSTMParams(training_precision="float32")
    assert training_precision(configured, torch.device("cpu")) == "float32"


def test_an_unknown_training_precision_is_refused():
    with pytest.raises(ValueError, match="training_precision"):
        training_precision(LSTMParams(training_precision="float16"), torch.device("cpu"))


@pytest.mark.parametrize("precision", ["bfloat16", "float32"])
def test_each_precision_trains_reproducibly_and_predicts_in_float32(world, tiny_lstm, precision):
    sequences, labels, dates = _subset(world)
    params = LSTMParams(**{**tiny_lstm.__dict__, "training_precision": precision})

    first = SequenceChurnModel(params, seed=5).fit(sequences, labels, dates)
    again = SequenceChurnModel(params, seed=5).fit(sequences, labels, dates)

    assert first.trained_in == precision
    np.testing.assert_array_equal(first.predict_proba(sequences), again.predict_proba(sequences))
    with torch.no_grad():
        by_hand = torch.sigmoid(first.network(first._to_tensor(sequences))).numpy()
    np.testing.assert_allclose(first.predict_proba(sequences), by_hand, rtol=0, atol=1e-6)


def test_bfloat16_and_float32_training_learn_nearly_the_same_scores(world, tiny_lstm):
    sequences, labels, dates = _subset(world)
    scores = {
        precision: SequenceChurnModel(
            LSTMParams(**{**tiny_lstm.__dict__, "training_precision": precision}), seed=5
        )
        .fit(sequences, labels, dates)
        .predict_proba(sequences)
        for precision in ("bfloat16", "float32")
    }

    assert not np.array_equal(scores["bfloat16"], scores["float32"])
    assert np.corrcoef(scores["bfloat16"], scores["float32"])[0, 1] > 0.95


def test_the_validation_slice_is_the_latest_snapshot_dates():
    dates = np.repeat(np.datetime64("2024-01-01") + 7 * np.arange(10), 3)

    held_out = time_later_validation_mask(dates, validation_fraction=0.2)

    assert held_out.sum() == 6
    assert dates[held_out].min() > dates[~held_out].max()
    assert not time_later_validation_mask(dates[:3], validation_fraction=0.2).any()


def test_input_scaling_uses_training_rows_only(world, tiny_lstm):
    sequences, labels, dates = _subset(world)
    params = LSTMParams(**{**tiny_lstm.__dict__, "max_epochs": 1})

    model = SequenceChurnModel(params, seed=0).fit(sequences, labels, dates)

    training = sequences[~time_later_validation_mask(dates, params.validation_fraction)]
    training_mean = np.log1p(training[:, :, 0].astype(np.float64)).mean()
    all_rows_mean = np.log1p(sequences[:, :, 0].astype(np.float64)).mean()
    assert abs(training_mean - all_rows_mean) > 1e-3
    np.testing.assert_allclose(model.mean[0], training_mean, rtol=1e-6)


def test_a_pickled_lstm_predicts_like_the_original(world, tiny_lstm):
    sequences, labels, dates = _subset(world)
    model = SequenceChurnModel(tiny_lstm, seed=1).fit(sequences, labels, dates)

    restored = pickle.loads(pickle.dumps(model))

    np.testing.assert_array_equal(restored.predict_proba(sequences), model.predict_proba(sequences))


def test_torch_uses_no_more_threads_than_the_openmp_limit(monkeypatch):
    # With more torch threads than OMP_THREAD_LIMIT allows, torch's OpenMP kernels returned NaN.
    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    torch.set_num_threads(2)
    try:
        respect_openmp_thread_limit()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
