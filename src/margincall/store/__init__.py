"""The run store: runs, their scenarios and results in SQL (SQLite by default, PostgreSQL by URL),
schema versioned with Alembic and migrated when a store opens.

    from margincall.store import open_store
    with open_store() as store:
        for run in store.list_runs(limit=10): ...
"""

from margincall.store._compare import DEFAULT_SIGMAS, ComparisonRow, compare_figures, compare_runs
from margincall.store._diff import ValueChange, scenario_changes
from margincall.store._decode import result_from_dict
from margincall.store._engine import alembic_config, head_revision
from margincall.store._errors import ResultFormatError, RunNotFoundError, StoreError
from margincall.store._figures import Figure, headline_figures, se_figures
from margincall.store._jobs import JobLimitError, JobNotFoundError, JobRecord, Jobs, JobStateError, JobSummary
from margincall.store._library import ScenarioNotFoundError, ScenarioRecord, Scenarios, ScenarioSummary
from margincall.store._monitor import AlertRecord, MonitorRecord, Monitors
from margincall.store._schema import JobStatus, RunStatus
from margincall.store._tokens import TokenError, TokenInfo, Tokens, token_hash
from margincall.store._store import RunHandle, RunRecord, RunStore, RunSummary, open_store, scenario_hash
from margincall.store._url import ENV_URL, default_url, resolve_url

__all__ = [
    "DEFAULT_SIGMAS",
    "ENV_URL",
    "AlertRecord",
    "ComparisonRow",
    "JobLimitError",
    "JobNotFoundError",
    "JobRecord",
    "JobStateError",
    "JobStatus",
    "JobSummary",
    "Jobs",
    "MonitorRecord",
    "Monitors",
    "ScenarioNotFoundError",
    "ScenarioRecord",
    "ScenarioSummary",
    "Scenarios",
    "TokenError",
    "TokenInfo",
    "Tokens",
    "Figure",
    "ResultFormatError",
    "RunHandle",
    "RunNotFoundError",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "RunSummary",
    "StoreError",
    "ValueChange",
    "alembic_config",
    "compare_figures",
    "compare_runs",
    "default_url",
    "head_revision",
    "headline_figures",
    "open_store",
    "resolve_url",
    "result_from_dict",
    "scenario_changes",
    "scenario_hash",
    "token_hash",
    "se_figures",
]
