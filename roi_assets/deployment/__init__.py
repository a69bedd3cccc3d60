"""Deployment: who may serve (registry aliases), to whom (A/B split) and how much (rollout)."""
