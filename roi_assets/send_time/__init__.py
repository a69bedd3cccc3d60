"""Send-time optimizer: a DQN choosing the hour of the week to email each client, its
environments (known-truth and logged sends), baselines and exact policy evaluation."""
