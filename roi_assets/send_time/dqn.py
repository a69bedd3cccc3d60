"""The send-time optimizer: the specification's deep Q-network over the 168 hours of the week.

Network (SPEC.md section 4): Linear(state→128) ReLU, Dropout(0.2), Linear(128→64) ReLU,
Dropout(0.2), Linear(64→32) ReLU, Linear(32→168); Adam (lr 0.001), MSE loss, an experience
replay of 10,000 transitions, a target network and ε-greedy exploration with decay.

How the Q target is formed. A client receives email after email, and how one send goes changes
the next one's state (an open resets the client's fatigue and recency, and moves its rates), so a
send is one step of the client's episode and the target of the taken hour bootstraps from the
target network at the client's next send:

    y = r                                              at the last send (terminal)
    y = (1 − γ) · r + γ · max_a' Q_target(s', a')      otherwise

The (1 − γ) weighting keeps Q in the reward's units: the discounted average open probability of
this email and the client's following ones, so the served value reads as an open rate. Sources of
one-step sends (a known-truth environment) give terminal transitions: y = r.

Learning from logs (`off_policy`): a logged send only shows the outcome of the hour the logging
policy chose. Its transitions carry a reward model's estimate at every hour and the logged hour's
importance weight w (relative to uniform logging, clipped); every one of the 168 outputs then gets
a doubly robust target (Dudík, Langford and Li, 2011): the model's estimate, plus for the logged
hour the importance-weighted residual of the observed reward,

    r_DR(s, h) = r̂(s, h) + 1[h = a] · w · (r − r̂(s, a)),

in place of r above. The next state is the logged one for every hour: an hour changes it only
through whether this email was opened, and that difference is left to the bootstrapped value of the
hour actually taken.

Exploration: ε is a function of the training iteration (one batch of sends per iteration), see
`epsilon_at`. Reproducibility: the same config (seed included) and the same source give the same
weights on CPU; dropout and initialisation draw from torch's global generator inside a forked,
seeded RNG context, so training never disturbs other code's random state. On CUDA results are
close but not bit-identical (non-deterministic kernels).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from roi_assets.send_time.environment import (
    DEFAULT_STATE_DIM,
    HOURS_PER_WEEK,
    Transitions,
    TransitionSource,
)


@dataclass(frozen=True)
class DQNConfig:
    """Everything that defines a send-time DQN; saved next to its weights.

    Exponential decay: ε_t = max(ε_end, ε_start · rate^t). Linear decay: ε falls from ε_start to
    ε_end over `epsilon_decay_iterations` iterations and stays there. t counts training
    iterations; each iteration collects `sends_per_iteration` transitions and takes
    `gradient_steps_per_iteration` gradient steps on minibatches of `batch_size` from the replay.

    Two gradient steps per batch of 64 sends by default: on a three-type test world one step left
    the greedy hour 2-3 hours off the true peak (open rate 0.40-0.46 against the oracle's 0.50),
    two steps reached 0.49 in the same number of iterations.

    Convergence: see `TrainingHistory.iterations_to_convergence`.
    """

    state_dim: int = DEFAULT_STATE_DIM
    n_actions: int = HOURS_PER_WEEK
    dropout: float = 0.2
    learning_rate: float = 1e-3
    gamma: float = 0.5
    replay_capacity: int = 10_000
    batch_size: int = 64
    sends_per_iteration: int = 64
    gradient_steps_per_iteration: int = 2
    learning_starts: int = 256
    target_sync_interval: int = 100
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay: Literal["exponential", "linear"] = "exponential"
    epsilon_decay_rate: float = 0.99
    epsilon_decay_iterations: int = 500
    convergence_window: int = 50
    convergence_tolerance: float = 0.05
    seed: int = 0
    device: str | None = None

    def __post_init__(self) -> None:
        if self.epsilon_decay not in ("exponential", "linear"):
            raise ValueError(f"unknown epsilon decay {self.epsilon_decay!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError("gamma must lie in [0, 1]")
        if not 0.0 <= self.epsilon_end <= self.epsilon_start <= 1.0:
            raise ValueError("need 0 <= epsilon_end <= epsilon_start <= 1")
        if self.target_sync_interval < 1 or self.replay_capacity < self.batch_size:
            raise ValueError("target_sync_interval >= 1 and replay_capacity >= batch_size needed")


def epsilon_at(iteration: int, config: DQNConfig) -> float:
    """Exploration rate at a (0-based) training iteration under the configured decay."""
    if config.epsilon_decay == "exponential":
        return max(config.epsilon_end, config.epsilon_start * config.epsilon_decay_rate**iteration)
    progress = min(1.0, iteration / max(1, config.epsilon_decay_iterations))
    return config.epsilon_start + progress * (config.epsilon_end - config.epsilon_start)


def build_q_network(state_dim: int, n_actions: int, dropout: float) -> nn.Sequential:
    """The specification's Q-network: one linear Q-value output per hour of the week."""
    return nn.Sequential(
        nn.Linear(state_dim, 128),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 32),
        nn.ReLU(),
        nn.Linear(32, n_actions),
    )


def q_targets(
    rewards: torch.Tensor, next_max_q: torch.Tensor, terminal: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Q-learning targets in reward units: r at a terminal send, else
    (1 − γ)·r + γ·max Q_target(s'). Broadcasts: `rewards` may hold one column per hour."""
    if rewards.dim() > next_max_q.dim():
        next_max_q, terminal = next_max_q.unsqueeze(-1), terminal.unsqueeze(-1)
    bootstrapped = (1.0 - gamma) * rewards + gamma * next_max_q
    return terminal * rewards + (1.0 - terminal) * bootstrapped


def doubly_robust_rewards(
    model_rewards: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """(n, 168) r̂(s, h) + 1[h = a]·w·(r − r̂(s, a)): the model everywhere, corrected at the
    logged hour by its importance-weighted residual."""
    taken = model_rewards.gather(1, actions.unsqueeze(1)).squeeze(1)
    correction = torch.zeros_like(model_rewards)
    correction.scatter_(1, actions.unsqueeze(1), (weights * (rewards - taken)).unsqueeze(1))
    return model_rewards + correction


class ReplayBuffer:
    """Fixed-capacity ring buffer of transitions in preallocated numpy arrays.

    Written by hand rather than taken from an RL library (torchrl, stable-baselines3) because it is
    about forty lines and those libraries would pull a large dependency into the product for it;
    arrays rather than a deque of tuples so batches go in and minibatches come out without a
    Python object per transition.
    """

    def __init__(self, capacity: int, state_dim: int, n_actions: int = HOURS_PER_WEEK) -> None:
        self.capacity = capacity
        self.states = np.zeros((capacity, state_dim), dtype=np.float32)
        self.next_states = np.zeros((capacity, state_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminal = np.ones(capacity, dtype=np.float32)
        self.model_rewards = np.zeros((capacity, n_actions), dtype=np.float32)
        self.weights = np.ones(capacity, dtype=np.float32)
        self.doubly_robust = np.zeros(capacity, dtype=np.float32)
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, batch: Transitions) -> None:
        """Append a batch, overwriting the oldest transitions once the buffer is full."""
        slots = (self._next + np.arange(len(batch))) % self.capacity
        # A batch larger than the buffer keeps only its newest `capacity` transitions.
        slots, keep = slots[-self.capacity :], slice(-self.capacity, None)
        self.states[slots] = batch.states[keep]
        self.actions[slots] = batch.actions[keep]
        self.rewards[slots] = batch.rewards[keep]
        if batch.next_states is None:
            self.terminal[slots] = 1.0
        else:
            self.next_states[slots] = batch.next_states[keep]
            terminal = np.zeros(len(batch)) if batch.terminal is None else batch.terminal
            self.terminal[slots] = np.asarray(terminal, dtype=np.float32)[keep]
        if batch.model_rewards is None:
            self.doubly_robust[slots] = 0.0
            self.weights[slots] = 1.0
        else:
            self.model_rewards[slots] = batch.model_rewards[keep]
            weights = np.ones(len(batch)) if batch.weights is None else batch.weights
            self.weights[slots] = np.asarray(weights, dtype=np.float32)[keep]
            self.doubly_robust[slots] = 1.0
        self._next = (self._next + len(batch)) % self.capacity
        self._size = min(self.capacity, self._size + len(batch))

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A uniform minibatch (with replacement) of stored transitions."""
        rows = rng.integers(0, self._size, size=batch_size)
        return {
            "states": self.states[rows],
            "actions": self.actions[rows],
            "rewards": self.rewards[rows],
            "next_states": self.next_states[rows],
            "terminal": self.terminal[rows],
            "model_rewards": self.model_rewards[rows],
            "weights": self.weights[rows],
            "doubly_robust": self.doubly_robust[rows],
        }


def settling_index(curve: np.ndarray, tolerance: float) -> int:
    """The first (0-based) position from which `curve` stays within `tolerance` (relative) of its
    final value until the end; 0 when it never leaves that band."""
    curve = np.asarray(curve, dtype=np.float64)
    final = curve[-1]
    outside = np.flatnonzero(np.abs(curve - final) > tolerance * abs(final))
    return 0 if outside.size == 0 else int(outside[-1]) + 1


@dataclass(frozen=True)
class TrainingHistory:
    """Per-iteration learning curve of one `DQNAgent.train` call (or of consecutive ones, see
    `concatenate`).

    `reward` is the mean reward of the iteration's sends: the expected reward of the chosen hours
    when the source knows it (the true one in a known-truth environment, the model's in a learned
    one; either removes Bernoulli noise from the curve), else the sampled reward. For logged
    sends it is the logging policy's reward and says nothing about learning; judge a log-trained
    agent with `LoggedSendsReplay.estimate`.
    `loss` is NaN for iterations before the replay held `learning_starts` transitions.
    """

    loss: np.ndarray
    reward: np.ndarray
    epsilon: np.ndarray
    window: int
    tolerance: float
    first_iteration: int = 0

    @property
    def moving_average_reward(self) -> np.ndarray:
        """Trailing mean of `reward` over `window` iterations (fewer at the start)."""
        sums = np.cumsum(self.reward)
        counts = np.minimum(np.arange(1, len(self.reward) + 1), self.window)
        shifted = np.concatenate([np.zeros(self.window), sums])[: len(sums)]
        return (sums - shifted) / counts

    @property
    def iterations_to_convergence(self) -> int:
        """The first iteration number n (1-based within this call) from which the moving-average
        reward stays within `tolerance` (relative) of its final value until the end.

        It measures when learning stopped moving, not whether it reached a good policy (compare
        policies with `policies.evaluate_policies`), and it lags the raw curve by up to `window`
        iterations. Returns 1 when the curve never leaves the band and len(reward) when it only
        settles at the last iteration.
        """
        return settling_index(self.moving_average_reward, self.tolerance) + 1

    @classmethod
    def concatenate(cls, parts: Sequence[TrainingHistory]) -> TrainingHistory:
        """One history of consecutive `train` calls, e.g. chunks between checkpoints."""
        if not parts:
            raise ValueError("no training histories to concatenate")
        first = parts[0]
        return cls(
            loss=np.concatenate([part.loss for part in parts]),
            reward=np.concatenate([part.reward for part in parts]),
            epsilon=np.concatenate([part.epsilon for part in parts]),
            window=first.window,
            tolerance=first.tolerance,
            first_iteration=first.first_iteration,
        )

    def to_frame(self) -> pd.DataFrame:
        """The learning curve as a table (iteration, loss, reward, moving average, ε) to plot."""
        return pd.DataFrame(
            {
                "iteration": self.first_iteration + np.arange(1, len(self.reward) + 1),
                "loss": self.loss,
                "reward": self.reward,
                "moving_average_reward": self.moving_average_reward,
                "epsilon": self.epsilon,
            }
        )


class DQNAgent:
    """A seeded DQN that picks, for each client state, the hour of the week to send at."""

    def __init__(self, config: DQNConfig | None = None) -> None:
        self.config = config or DQNConfig()
        self.device = torch.device(
            self.config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        )
        with self._seeded_torch(self.config.seed):
            self.q_network = self._new_network()
            self.target_network = self._new_network()
        self.sync_target()
        self.target_network.eval()
        self.optimizer = torch.optim.Adam(self.q_network.parameters(), lr=self.config.learning_rate)
        self.replay = ReplayBuffer(
            self.config.replay_capacity, self.config.state_dim, self.config.n_actions
        )
        self._rng = np.random.default_rng(self.config.seed)
        self._iterations = 0
        self._training_steps = 0

    @property
    def iterations(self) -> int:
        """Training iterations done so far (ε follows this count)."""
        return self._iterations

    @property
    def epsilon(self) -> float:
        """The exploration rate the next training iteration will use."""
        return epsilon_at(self._iterations, self.config)

    def q_values(self, states: np.ndarray) -> np.ndarray:
        """(n, 168) predicted expected reward of sending to each state at each hour."""
        self.q_network.eval()
        with torch.no_grad():
            tensor = torch.as_tensor(np.asarray(states, dtype=np.float32), device=self.device)
            return self.q_network(tensor).cpu().numpy()

    def act(
        self, states: np.ndarray, explore: bool = True, epsilon: float | None = None
    ) -> np.ndarray:
        """Hours of week to send at: greedy, or ε-greedy when `explore` (ε defaults to the
        current schedule value)."""
        hours = self.q_values(states).argmax(axis=1)
        if explore:
            rate = self.epsilon if epsilon is None else epsilon
            random_rows = self._rng.random(len(hours)) < rate
            hours[random_rows] = self._rng.integers(
                0, self.config.n_actions, size=int(random_rows.sum())
            )
        return hours.astype(np.int64)

    def best_hours(self, states: np.ndarray) -> np.ndarray:
        """The greedy hour of week (client's local time) for each state."""
        return self.act(states, explore=False)

    def expected_reward(self, states: np.ndarray) -> np.ndarray:
        """Predicted expected reward when sending at `best_hours(states)`."""
        return self.q_values(states).max(axis=1)

    def remember(self, batch: Transitions) -> None:
        """Store transitions in the experience replay."""
        self.replay.add(batch)

    def learn_step(self) -> float:
        """One gradient step on a replay minibatch; syncs the target network every
        `target_sync_interval` steps. Returns the minibatch MSE loss: over every hour for logged
        transitions (doubly robust targets), over the taken hour for the others.

        Dropout draws from torch's global generator, which `train` seeds; call it directly only
        where that reproducibility is not needed (or seed torch yourself).
        """
        config = self.config
        if len(self.replay) == 0:
            raise RuntimeError("the replay is empty: remember() transitions before learning")
        sample = self.replay.sample(config.batch_size, self._rng)
        t = {k: torch.as_tensor(v, device=self.device) for k, v in sample.items()}
        self.q_network.train()
        predicted = self.q_network(t["states"])
        with torch.no_grad():
            next_max_q = torch.zeros_like(t["rewards"])
            if config.gamma > 0:
                next_max_q = self.target_network(t["next_states"]).max(dim=1).values
            taken_rewards = torch.nn.functional.one_hot(t["actions"], config.n_actions)
            rewards = torch.where(
                t["doubly_robust"].unsqueeze(1) > 0,
                doubly_robust_rewards(t["model_rewards"], t["actions"], t["rewards"], t["weights"]),
                taken_rewards * t["rewards"].unsqueeze(1),
            )
            targets = q_targets(rewards, next_max_q, t["terminal"], config.gamma)
            # a transition without a reward model teaches only the hour it took
            mask = torch.maximum(t["doubly_robust"].unsqueeze(1), taken_rewards.float())
        loss = ((predicted - targets) ** 2 * mask).sum() / mask.sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._training_steps += 1
        if self._training_steps % config.target_sync_interval == 0:
            self.sync_target()
        return float(loss.item())

    def sync_target(self) -> None:
        """Hard-copy the online network's weights into the target network."""
        self.target_network.load_state_dict(self.q_network.state_dict())

    def train(self, source: TransitionSource, iterations: int) -> TrainingHistory:
        """Collect sends from `source` with ε-greedy actions and learn from the replay.

        Each iteration: collect `sends_per_iteration` transitions, store them, and (once the
        replay holds `learning_starts` transitions) take `gradient_steps_per_iteration` steps.
        Calling train again continues the ε schedule and the step count.
        """
        config = self.config
        if (source.state_dim, source.n_actions) != (config.state_dim, config.n_actions):
            raise ValueError(
                f"source is {source.state_dim}→{source.n_actions}, "
                f"agent is {config.state_dim}→{config.n_actions}"
            )
        first_iteration = self._iterations
        losses, rewards, epsilons = [], [], []
        with self._seeded_torch(int(self._rng.integers(2**62))):
            for _ in range(iterations):
                epsilon = self.epsilon
                batch = source.transitions(
                    lambda states, rate=epsilon: self.act(states, explore=True, epsilon=rate),
                    config.sends_per_iteration,
                )
                self.remember(batch)
                step_losses = [
                    self.learn_step()
                    for _ in range(config.gradient_steps_per_iteration)
                    if len(self.replay) >= config.learning_starts
                ]
                shown = batch.rewards if batch.expected_rewards is None else batch.expected_rewards
                losses.append(np.mean(step_losses) if step_losses else np.nan)
                rewards.append(float(np.mean(shown)))
                epsilons.append(epsilon)
                self._iterations += 1
        return TrainingHistory(
            loss=np.asarray(losses, dtype=np.float64),
            reward=np.asarray(rewards, dtype=np.float64),
            epsilon=np.asarray(epsilons, dtype=np.float64),
            window=config.convergence_window,
            tolerance=config.convergence_tolerance,
            first_iteration=first_iteration,
        )

    def save(self, path: str | Path) -> None:
        """Write the config and both networks' weights to one torch file."""
        torch.save(
            {
                "config": asdict(self.config),
                "q_network": self.q_network.state_dict(),
                "target_network": self.target_network.state_dict(),
            },
            Path(path),
        )

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> DQNAgent:
        """Rebuild an agent saved with `save` (on `device`, or CUDA when available)."""
        saved = torch.load(Path(path), map_location="cpu", weights_only=True)
        agent = cls(DQNConfig(**{**saved["config"], "device": device}))
        agent.q_network.load_state_dict(saved["q_network"])
        agent.target_network.load_state_dict(saved["target_network"])
        return agent

    def _new_network(self) -> nn.Sequential:
        config = self.config
        return build_q_network(config.state_dim, config.n_actions, config.dropout).to(self.device)

    @contextmanager
    def _seeded_torch(self, seed: int) -> Iterator[None]:
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield
