"""The torch models train on a CUDA device when one is present, and what they learn there serves
on a machine without one. Skipped where torch sees no GPU (CI never has one)."""

import numpy as np
import pytest
import torch

from roi_assets.churn.sequence_model import LSTMParams, SequenceChurnModel
from roi_assets.send_time.dqn import DQNAgent, DQNConfig
from roi_assets.send_time.environment import Transitions

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def test_the_churn_lstm_trains_on_cuda_and_predicts_the_same_on_cpu_after_saving(tmp_path):
    rng = np.random.default_rng(0)
    sequences = rng.poisson(2.0, size=(2048, 30, 15)).astype(np.float32)
    labels = (sequences[:, -7:, 0].sum(axis=1) < 12).astype(int)
    dates = np.repeat(np.arange("2026-01-05", "2026-03-02", 7, dtype="datetime64[D]"), 256)
    params = LSTMParams(max_epochs=10, patience=10, device="cuda")

    model = SequenceChurnModel(params, seed=0).fit(sequences, labels, dates)

    assert model.device.type == "cuda"
    assert next(model.network.parameters()).is_cuda
    on_gpu = model.predict_proba(sequences[:256])
    model.save(tmp_path / "lstm.pt")
    on_cpu = SequenceChurnModel.load(
        tmp_path / "lstm.pt", LSTMParams(device="cpu"), seed=0
    ).predict_proba(sequences[:256])
    # GPUs multiply in reduced precision (TF32): agreement to 1e-3, not bit for bit
    assert np.allclose(on_gpu, on_cpu, atol=1e-3)
    # it learned the planted rule: low recent activity means churn
    assert on_gpu[labels[:256] == 1].mean() > on_gpu[labels[:256] == 0].mean() + 0.1


def test_the_send_time_dqn_learns_on_cuda_and_its_saved_agent_acts_the_same_on_cpu(tmp_path):
    rng = np.random.default_rng(1)
    agent = DQNAgent(DQNConfig(device="cuda", learning_starts=64, seed=3))
    best_hour = 42
    for _ in range(150):
        states = rng.normal(size=(64, 20)).astype(np.float32)
        actions = rng.integers(0, 168, 64)
        rewards = (actions == best_hour).astype(np.float64) + rng.normal(0, 0.05, 64)
        agent.remember(Transitions(states=states, actions=actions, rewards=rewards))
        agent.learn_step()

    assert agent.device.type == "cuda"
    probe = rng.normal(size=(32, 20)).astype(np.float32)
    agent.save(tmp_path / "dqn.pt")
    on_cpu = DQNAgent.load(tmp_path / "dqn.pt", device="cpu")
    assert np.array_equal(agent.best_hours(probe), on_cpu.best_hours(probe))
    assert np.allclose(agent.q_values(probe), on_cpu.q_values(probe), atol=1e-3)
