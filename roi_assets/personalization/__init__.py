"""Content personalizer: Thompson sampling over content variants per client segment, its
posteriors kept in the warehouse, its evaluation in simulation and by off-policy replay on logged
sends, and the Dagster assets around them."""
