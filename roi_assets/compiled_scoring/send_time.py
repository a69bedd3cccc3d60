"""The send-time DQN compiled: its Q-network through ONNX Runtime.

The pyfunc answers the best hour of the week (the argmax of the 168 Q-values) and the predicted
reward there (their maximum); so does this, from the same float32 states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from roi_assets.compiled_scoring.conversion import export_network
from roi_assets.compiled_scoring.runtimes import onnx_session
from roi_assets.send_time.dqn import DQNAgent

KIND = "send_time_dqn"
NETWORK_FILE = "q_network.onnx"


@dataclass
class CompiledSendTimePolicy:
    network: ort.InferenceSession
    state_dim: int

    kind = KIND

    @staticmethod
    def write(agent: DQNAgent, directory: Path) -> None:
        state_dim = agent.config.state_dim
        export_network(
            agent.q_network,
            np.zeros((1, state_dim), np.float32),
            directory / NETWORK_FILE,
            input_name="states",
            output_name="q_values",
        )
        (directory / "send_time.json").write_text(json.dumps({"state_dim": state_dim}))

    @classmethod
    def load(cls, directory: Path, threads: int = 1) -> CompiledSendTimePolicy:
        spec = json.loads((directory / "send_time.json").read_text())
        return cls(onnx_session(directory / NETWORK_FILE, threads), int(spec["state_dim"]))

    def q_values(self, states: np.ndarray) -> np.ndarray:
        """(n, 168) predicted reward of each hour of the week per state."""
        states = np.ascontiguousarray(states, dtype=np.float32)
        if states.ndim != 2 or states.shape[1] != self.state_dim:
            raise ValueError(f"expected states of shape (n, {self.state_dim}), got {states.shape}")
        return self.network.run(["q_values"], {"states": states})[0]

    def best_hours(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best hour of week, expected reward there) per state."""
        q_values = self.q_values(states)
        return q_values.argmax(axis=1).astype(np.int64), q_values.max(axis=1).astype(np.float64)
