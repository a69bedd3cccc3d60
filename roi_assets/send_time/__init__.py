"""Send-time optimizer: a DQN choosing the hour of the week to email each client, the client
states it reads from the warehouse, its environments (known-truth, logged sends and one learned
from them), baselines, exact policy evaluation and the Dagster assets around them."""
