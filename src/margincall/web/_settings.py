"""The service's settings: command-line options of `margincall serve`, else MARGINCALL_* environment
variables, else these defaults. Every limit names its variable in the error a client gets."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "MARGINCALL_"


class Settings(BaseSettings):
    """How the service runs and what it allows."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    db: str | None = Field(default=None, description="Run store URL or SQLite file (MARGINCALL_DB); default: the user's data folder.")
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on (0: any free port).")
    workers: int = Field(default=2, ge=1, le=256, description="Worker processes that run jobs (at most this many at once).")
    threads: int | None = Field(default=None, ge=1, description="Numba threads per worker; default: cores / workers.")
    scheduler: str | None = Field(default=None, description="Run jobs on the Dask cluster at this address (tcp://host:port) instead.")
    dask_jobs: int | None = Field(default=None, ge=1, description="Jobs at a time on the Dask cluster; default: its worker threads.")
    max_upload_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body (a scenario, marks), in bytes.")
    max_paths: int = Field(default=1_000_000, ge=1, description="Most Monte Carlo paths per simulation of a job.")
    max_active_jobs: int = Field(default=4, ge=1, description="Most queued and running jobs per token.")
    max_sweep_points: int = Field(default=100, ge=1, description="Most grid points of a sweep job.")
    cancel_grace_s: float = Field(default=3.0, gt=0.0, description="Seconds a cancelled job has to stop before its worker is replaced.")
    token_cache_s: float = Field(default=5.0, ge=0.0, description="Seconds a checked token is trusted before it is looked up again.")

    @model_validator(mode="after")
    def _one_backend(self) -> "Settings":
        if self.scheduler is not None and "workers" in self.model_fields_set:
            raise ValueError("--workers starts local worker processes and --scheduler uses a Dask cluster: give one of them")
        return self

    @staticmethod
    def variable(field: str) -> str:
        """The environment variable of a setting."""
        return ENV_PREFIX + field.upper()
