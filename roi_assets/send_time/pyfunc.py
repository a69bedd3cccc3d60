"""The send-time DQN as an MLflow pyfunc model, so it can be logged, registered and served.

Input: client states, a float32 array (or a frame whose columns are the state in
`environment.STATE_FEATURES` order) of shape (n, state_dim). Output: a frame with the
recommended `best_hour_of_week` (client's local time, 0 = Monday 00:00) and the predicted
`expected_reward` there. The agent travels as an artifact (`DQNAgent.save` file); loading the
model needs the roi_assets package importable, as in the product's serving image.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types import ColSpec, Schema, TensorSpec

from roi_assets.send_time.dqn import DQNAgent

AGENT_ARTIFACT = "dqn_agent"


class SendTimeDQNModel(mlflow.pyfunc.PythonModel):
    """Recommends the best hour of week per client state with a saved `DQNAgent`."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.agent = DQNAgent.load(context.artifacts[AGENT_ARTIFACT])

    # `model_input` is deliberately unannotated: MLflow 3 reads a type hint there as its input
    # schema and only understands list[...] hints; the signature below declares the schema.
    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Best hour of week and predicted expected reward for each state row."""
        states = np.asarray(model_input, dtype=np.float32)
        q_values = self.agent.q_values(states)
        return pd.DataFrame(
            {
                "best_hour_of_week": q_values.argmax(axis=1).astype(np.int64),
                "expected_reward": q_values.max(axis=1).astype(np.float64),
            }
        )


def model_signature(state_dim: int) -> ModelSignature:
    """Signature of the pyfunc: (n, state_dim) float32 states in, hour and reward out."""
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, state_dim))]),
        outputs=Schema(
            [ColSpec("long", "best_hour_of_week"), ColSpec("double", "expected_reward")]
        ),
    )


def _pip_requirements() -> list[str]:
    # Pinned explicitly: MLflow's own inference would load the model in a subprocess to find them.
    return [
        f"torch=={torch.__version__.split('+')[0]}",
        f"numpy=={np.__version__}",
        f"pandas=={pd.__version__}",
    ]


def save_send_time_model(agent: DQNAgent, path: str | Path) -> None:
    """Write the agent as a pyfunc model directory (for tests and offline use)."""
    with tempfile.TemporaryDirectory() as workdir:
        agent_file = Path(workdir) / "agent.pt"
        agent.save(agent_file)
        mlflow.pyfunc.save_model(
            path=str(path),
            python_model=SendTimeDQNModel(),
            artifacts={AGENT_ARTIFACT: str(agent_file)},
            signature=model_signature(agent.config.state_dim),
            input_example=np.zeros((1, agent.config.state_dim), dtype=np.float32),
            pip_requirements=_pip_requirements(),
        )


def log_send_time_model(
    agent: DQNAgent, name: str = "send_time_dqn", registered_model_name: str | None = None
) -> ModelInfo:
    """Log the agent to the active MLflow run, optionally registering it (e.g. as
    `roi-send-time-dqn`)."""
    with tempfile.TemporaryDirectory() as workdir:
        agent_file = Path(workdir) / "agent.pt"
        agent.save(agent_file)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=SendTimeDQNModel(),
            artifacts={AGENT_ARTIFACT: str(agent_file)},
            signature=model_signature(agent.config.state_dim),
            input_example=np.zeros((1, agent.config.state_dim), dtype=np.float32),
            pip_requirements=_pip_requirements(),
            registered_model_name=registered_model_name,
        )
