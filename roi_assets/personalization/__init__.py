"""Content personalizer: Thompson sampling over content variants per client segment, and its
evaluation in simulation and by off-policy replay on logged sends."""
