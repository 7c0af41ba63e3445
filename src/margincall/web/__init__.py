"""The service face of margincall: a FastAPI app with the REST API, the dashboard and a job runner.

    from margincall.web import Settings, create_app
    app = create_app(Settings(db="sqlite:////tmp/runs.db", workers=2))

`margincall serve` runs it with uvicorn. Only `margincall.cli` imports this package.
"""

from margincall.web._app import create_app
from margincall.web._settings import Settings

__all__ = ["Settings", "create_app"]
