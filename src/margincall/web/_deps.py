"""Typed dependencies of the routes: the service state, the store, the client behind a token."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from margincall.store import RunStore, TokenInfo, token_hash
from margincall.web._runner import JobRunner
from margincall.web._settings import Settings

COOKIE = "margincall_token"
bearer = HTTPBearer(auto_error=False, description="A token from `margincall token create --name NAME`.")


@dataclass
class ServiceState:
    """What the app holds while it runs (built in the lifespan of `create_app`)."""

    settings: Settings
    store: RunStore
    runner: JobRunner
    tokens: TokenCache


class TokenCache:
    """Checked tokens, trusted for `ttl_s` seconds (a revoked token stops working within that);
    last-use times written at most once a minute per token."""

    def __init__(self, store: RunStore, ttl_s: float):
        self.store = store
        self.ttl_s = ttl_s
        self._seen: dict[str, tuple[float, TokenInfo]] = {}
        self._touched: dict[int, float] = {}
        self._lock = threading.Lock()

    def check(self, secret: str) -> TokenInfo | None:
        key = token_hash(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            info: TokenInfo | None = hit[1]
        else:
            info = self.store.tokens.authenticate(secret)
            with self._lock:
                if info is None:
                    self._seen.pop(key, None)
                else:
                    if len(self._seen) > 10_000:
                        self._seen.clear()
                    self._seen[key] = (now, info)
        if info is not None:
            with self._lock:
                due = now - self._touched.get(info.id, -1e9) > 60.0
                if due:
                    self._touched[info.id] = now
            if due:
                self.store.tokens.touch(info.id)
        return info


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


def get_store(state: StateDep) -> RunStore:
    return state.store


StoreDep = Annotated[RunStore, Depends(get_store)]


def get_settings(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_client(request: Request, state: StateDep,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> TokenInfo:
    """The token's client. The dashboard's pages send the token in a same-site cookie instead of
    the header; a write with the cookie must also come from this origin."""
    secret = credentials.credentials if credentials is not None else None
    from_cookie = False
    if secret is None:
        secret = request.cookies.get(COOKIE)
        from_cookie = secret is not None
    if not secret:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no token: send 'Authorization: Bearer TOKEN' "
                            "(a token comes from `margincall token create --name NAME`)", headers=UNAUTHORIZED)
    info = state.tokens.check(secret)
    if info is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the token is not valid (unknown or revoked)", headers=UNAUTHORIZED)
    if from_cookie and request.method not in ("GET", "HEAD", "OPTIONS"):
        origin = request.headers.get("origin")
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin is not None and origin != expected:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "a write with the dashboard's cookie must come from the dashboard")
    return info


ClientDep = Annotated[TokenInfo, Depends(get_client)]


def get_writer(client: ClientDep) -> TokenInfo:
    """A client that may submit jobs and upload scenarios (403 for a read-only token)."""
    if client.read_only:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"the token '{client.name}' is read-only: it cannot submit jobs or upload scenarios")
    return client


WriterDep = Annotated[TokenInfo, Depends(get_writer)]


class LimitError(HTTPException):
    """A request over one of the service's limits: the message names the limit and its setting."""

    def __init__(self, status_code: int, message: str, field: str):
        variable = Settings.variable(field)
        super().__init__(status_code, {"message": f"{message} (setting {variable})", "limit": field, "setting": variable})
