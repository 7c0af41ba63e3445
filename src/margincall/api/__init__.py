"""Orchestration: load scenarios, run simulations, build results."""
