"""Orchestration: load scenarios, run simulations, build results, answer questions (stress,
reverse, size, sweep, sensitivities, calibrate). Named so as not to be confused with the REST API
of the service (`margincall.web`)."""
