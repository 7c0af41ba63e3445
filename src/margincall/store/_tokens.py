"""Service tokens: created once (the secret is shown to its holder and never stored), kept as a
SHA-256 hash, listed, revoked. A token is 32 random bytes, so a plain hash is as safe as a slow
one and lets every request be checked with one indexed lookup."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from margincall.store._errors import StoreError
from margincall.store._schema import Token

PREFIX = "mc_"  # marks a margincall token in logs and secret scanners


def token_hash(secret: str) -> str:
    """SHA-256 of the token (UTF-8), hex: what the store keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class TokenInfo:
    """A token without its secret. Times are UTC."""

    id: int
    name: str
    read_only: bool
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _info(row: Token) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.read_only, row.created_at, row.last_used_at, row.revoked_at)


class TokenError(StoreError):
    """A token that cannot be created or found."""


class Tokens:
    """The service's tokens in the run store (see `RunStore.tokens`)."""

    def __init__(self, session: sessionmaker[Session], url: str, read: sessionmaker[Session] | None = None):
        self._session = session
        self._read = read or session  # read-only transactions (not holding SQLite's write lock)
        self._url = url

    def create(self, name: str, *, read_only: bool = False) -> tuple[TokenInfo, str]:
        """A new token: its record and its secret (shown once; only its hash is stored)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise TokenError("a token's name is 1 to 100 characters (who or what holds it)")
        secret = PREFIX + secrets.token_urlsafe(32)
        row = Token(name=name, token_hash=token_hash(secret), read_only=read_only, created_at=_now())
        try:
            with self._session.begin() as session:
                session.add(row)
                session.flush()
                return _info(row), secret
        except IntegrityError:
            raise TokenError(f"a token named '{name}' exists already in {self._url}; pick another name or revoke it") from None

    def authenticate(self, secret: str) -> TokenInfo | None:
        """The active token with this secret, or None (unknown or revoked)."""
        with self._read() as session:
            row = session.execute(select(Token).where(Token.token_hash == token_hash(secret))).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            return _info(row)

    def touch(self, token_id: int) -> None:
        """Record that the token was used now."""
        with self._session.begin() as session:
            session.execute(update(Token).where(Token.id == token_id).values(last_used_at=_now()))

    def list(self) -> list[TokenInfo]:
        """Every token, revoked ones included, oldest first."""
        with self._read() as session:
            return [_info(row) for row in session.execute(select(Token).order_by(Token.id)).scalars()]

    def revoke(self, name_or_id: str | int) -> TokenInfo:
        """Revoke the token with this name (or id); it stops working at once."""
        with self._session.begin() as session:
            query = select(Token)
            if isinstance(name_or_id, int) or str(name_or_id).isdigit():
                query = query.where(Token.id == int(name_or_id))
            else:
                query = query.where(Token.name == str(name_or_id))
            row = session.execute(query).scalar_one_or_none()
            if row is None:
                raise TokenError(f"no token '{name_or_id}' in {self._url}; `margincall token list` shows them")
            if row.revoked_at is None:
                row.revoked_at = _now()
            return _info(row)
