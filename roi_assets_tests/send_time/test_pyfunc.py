import mlflow
import numpy as np
import pandas as pd

from roi_assets.send_time.dqn import DQNAgent, DQNConfig
from roi_assets.send_time.pyfunc import save_send_time_model


def test_the_logged_pyfunc_recommends_the_agents_best_hours(tmp_path, world):
    agent = DQNAgent(DQNConfig(seed=2, learning_starts=64, device="cpu"))
    agent.train(world, 5)
    save_send_time_model(agent, tmp_path / "model")
    model = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    states = world.states[:25]
    predicted = model.predict(states)
    assert isinstance(predicted, pd.DataFrame)
    assert predicted["best_hour_of_week"].tolist() == agent.best_hours(states).tolist()
    assert np.allclose(predicted["expected_reward"], agent.expected_reward(states), atol=1e-6)
