"""Learning-curve plots of the send-time DQN as PNG bytes, for asset metadata and MLflow.

Drawn on a matplotlib Agg canvas (no display, no pyplot global state), like the reliability plots.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from roi_assets.send_time.dqn import TrainingHistory


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def training_curve_png(history: TrainingHistory, title: str = "DQN training") -> bytes:
    """Moving-average reward of the training sends and ε above, minibatch loss below, with the
    iteration from which the reward curve settled."""
    frame = history.to_frame()
    converged = history.first_iteration + history.iterations_to_convergence
    figure = Figure(figsize=(7.0, 6.0), layout="constrained")
    reward_axes, loss_axes = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 2)}
    )
    reward_axes.plot(frame["iteration"], frame["reward"], alpha=0.25, label="reward per iteration")
    reward_axes.plot(
        frame["iteration"],
        frame["moving_average_reward"],
        label=f"moving average ({history.window})",
    )
    reward_axes.axvline(converged, color="grey", linestyle="--", label=f"settled at {converged}")
    reward_axes.set(title=title, ylabel="expected reward of the sends")
    reward_axes.legend(loc="lower right")
    epsilon_axes = reward_axes.twinx()
    epsilon_axes.plot(frame["iteration"], frame["epsilon"], color="black", linewidth=0.8)
    epsilon_axes.set(ylabel="ε (black)", ylim=(0, 1))
    loss_axes.plot(frame["iteration"], frame["loss"])
    loss_axes.set(xlabel="training iteration", ylabel="minibatch MSE loss", yscale="log")
    return _png(figure)


def evaluation_curve_png(
    iterations: list[int] | tuple[int, ...],
    open_rates: list[float] | tuple[float, ...],
    reference_rates: Mapping[str, float],
    converged_at: int,
    target_iterations: int,
    title: str = "DQN learning curve on held-out clients",
) -> bytes:
    """True expected open rate of the DQN's recommendations at each checkpoint, next to the
    reference policies' rates (horizontal lines) and the convergence target."""
    figure = Figure(figsize=(7.0, 4.5), layout="constrained")
    axes = figure.subplots()
    axes.plot(iterations, open_rates, marker="o", markersize=3, label="DQN (greedy)")
    for (name, rate), style in zip(reference_rates.items(), (":", "-.", "--", "-"), strict=False):
        axes.axhline(rate, linestyle=style, color="grey", label=f"{name} {rate:.3f}")
    axes.axvline(converged_at, color="tab:green", linewidth=0.8, label=f"settled at {converged_at}")
    axes.axvline(target_iterations, color="tab:red", linewidth=0.8, label="specification limit")
    axes.set(title=title, xlabel="training iteration", ylabel="expected open rate (true)")
    axes.legend(loc="lower right", fontsize="small")
    return _png(figure)
