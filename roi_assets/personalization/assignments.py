"""Content assignments: one Thompson draw per client from the stored posteriors.

Each client gets, per variant family, the variant whose posterior sample was highest for the
client's segment (so assignments keep exploring while the posteriors are wide), with that
variant's posterior mean and 95 % credible interval so BI can see how sure the choice is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from roi_assets.personalization.bandit import ContentPersonalizer

CREDIBILITY = 0.95


def content_assignments(
    personalizer: ContentPersonalizer,
    clients: pl.DataFrame,
    variant_columns: Mapping[str, str],
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One row per client (columns client_id, segment): for each family its chosen variant (in
    the family's `variant_columns` name) and `<family>_posterior_mean`, `<family>_ci_lower`,
    `<family>_ci_upper` of that variant in the client's segment."""
    chosen = personalizer.select_many(clients["segment"].to_list(), rng)
    summary = pl.from_pandas(personalizer.posterior_summary(CREDIBILITY))
    assignments = clients.select("client_id", "segment")
    for family in personalizer.samplers:
        column = variant_columns[family]
        posterior = summary.filter(pl.col("family") == family).select(
            "segment",
            pl.col("variant").alias(column),
            pl.col("mean").alias(f"{family}_posterior_mean"),
            pl.col("lower").alias(f"{family}_ci_lower"),
            pl.col("upper").alias(f"{family}_ci_upper"),
        )
        assignments = assignments.with_columns(
            pl.Series(column, chosen[family].to_numpy(), dtype=pl.String)
        ).join(posterior, on=["segment", column], how="left", maintain_order="left")
    return assignments
