"""The compiled send-time policy recommends what the logged pyfunc recommends."""

from __future__ import annotations

import mlflow
import numpy as np

from roi_assets.compiled_scoring import compile_model, read_compiled
from roi_assets.send_time.dqn import DQNAgent, DQNConfig
from roi_assets.send_time.pyfunc import save_send_time_model


def test_best_hours_and_rewards_match_the_pyfunc(tmp_path, world):
    agent = DQNAgent(DQNConfig(seed=2, learning_starts=64, device="cpu"))
    agent.train(world, 5)
    save_send_time_model(agent, tmp_path / "model")
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    compile_model(agent, tmp_path / "compiled")
    compiled = read_compiled(tmp_path / "compiled")
    states = world.states[:500]
    expected = pyfunc.predict(states)
    hours, rewards = compiled.best_hours(states)
    np.testing.assert_allclose(rewards, expected["expected_reward"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(compiled.q_values(states), agent.q_values(states), atol=1e-6)
    assert (hours == expected["best_hour_of_week"].to_numpy()).mean() > 0.99
    assert compiled.best_hours(states[:1])[0][0] == hours[0]
