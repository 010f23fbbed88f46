"""Who is asking, and what they may do.

- Agency users see every project; they act on a project only where they are its pilot.
- Pilot users see and act on the projects they pilot: a user pilots a project when one of
  the project's active partner rows has the role ``pilot`` and the user's email.
- Partners have no account: they act through signed personal links (see ``web.links``).

Passwords are hashed with argon2 (argon2-cffi), a few at a time (:mod:`web.throttle`), and
sign-ins are throttled per account and per address; API tokens are 256 random bits of which
only the SHA-256 is stored (a slow hash adds nothing to a secret that cannot be guessed), and
they expire (``token_max_age_days``) or are revoked.

Sessions are signed cookies carrying the user id and the user's ``session_version``: signing
out, changing the password and disabling the account raise the version, which revokes every
cookie signed before (server-side, although the cookie itself still verifies).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from web.throttle import HashingSlots, LoginThrottle
from workflow import tables
from workflow.addresses import check_email
from workflow.calendar import paris_date
from workflow.database import read
from workflow.errors import InvalidInput, NotFound, WorkflowError

__all__ = [
    "ROLES",
    "Accounts",
    "Forbidden",
    "NotSignedIn",
    "Principal",
    "TokenInfo",
]

ROLES = ("agency", "pilot")
_hasher = PasswordHasher()
# A token's last use is written at most this often (not one write per API call).
_LAST_USE_PRECISION = timedelta(hours=1)


class NotSignedIn(WorkflowError):
    def __init__(self) -> None:
        super().__init__(
            "You are not signed in: sign in at /login, or send an API token as "
            "'Authorization: Bearer <token>'."
        )


class Forbidden(WorkflowError, PermissionError):
    def __init__(self, who: str, action: str, project_id: int | None = None) -> None:
        self.project_id = project_id
        where = f" project {project_id}" if project_id is not None else ""
        super().__init__(
            f"{who} may not {action}{where}: only the project's pilots may act on a project, "
            "and pilots see only their own projects."
        )


@dataclass(frozen=True)
class Principal:
    id: int
    email: str
    name: str
    role: str
    lang: str = "fr"
    session_version: int = 0

    @property
    def is_agency(self) -> bool:
        return self.role == "agency"


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (never the token itself)."""

    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


def _principal(row: Any) -> Principal:
    return Principal(row.id, row.email, row.name, row.role, row.lang, row.session_version)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("password", "at least 8 characters are needed")
    if len(password) > 1024:
        raise InvalidInput("password", "at most 1024 characters")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(
        self,
        db: sa.Engine,
        now: Callable[[], datetime],
        *,
        token_max_age_days: int = 365,
        throttle: LoginThrottle | None = None,
        hashing: HashingSlots | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.db, self._now = db, now
        self.token_max_age = timedelta(days=token_max_age_days)
        self.throttle = throttle or LoginThrottle(now)
        self.hashing = hashing or HashingSlots()
        # argon2id with argon2-cffi's defaults (64 MiB, 3 passes); the tests pass a cheaper one.
        self.hasher = hasher or _hasher

    # -- users ---------------------------------------------------------------------------
    def create_user(
        self, email: str, password: str, *, role: str, name: str = "", lang: str = "fr"
    ) -> Principal:
        email = check_email("email", email).lower()
        if role not in ROLES:
            raise InvalidInput("role", f"{role!r} is not one of {', '.join(ROLES)}")
        _check_password(password)
        with self.hashing.hold():
            password_hash = self.hasher.hash(password)
        with self.db.begin() as conn:
            if conn.execute(
                sa.select(tables.user_account.c.id).where(tables.user_account.c.email == email)
            ).first():
                raise InvalidInput("email", f"a user {email!r} already exists")
            uid = conn.execute(
                tables.user_account.insert().values(
                    email=email,
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    lang=lang,
                    created_at=self._now(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return Principal(uid, email, name, role, lang)

    def user(self, user_id: int) -> Principal | None:
        """The user, unless unknown or disabled."""
        with read(self.db) as conn:
            row = conn.execute(
                sa.select(tables.user_account).where(
                    tables.user_account.c.id == user_id,
                    tables.user_account.c.disabled_at.is_(None),
                )
            ).first()
        return _principal(row) if row else None

    def session_user(self, user_id: int, session_version: object) -> Principal | None:
        """The user a session cookie names, if the cookie was signed since their last
        sign-out, password change or disabling (its version is still theirs)."""
        who = self.user(user_id)
        if who is None or session_version != who.session_version:
            return None
        return who

    def users(self) -> list[tuple[Principal, datetime | None]]:
        """Every user, disabled ones included (with when they were disabled), by email."""
        with read(self.db) as conn:
            rows = conn.execute(
                sa.select(tables.user_account).order_by(tables.user_account.c.email)
            ).all()
        return [(_principal(r), r.disabled_at) for r in rows]

    def find(self, email: str) -> int:
        """The id of the user with this email (disabled or not); NotFound otherwise."""
        with read(self.db) as conn:
            uid = conn.execute(
                sa.select(tables.user_account.c.id).where(
                    tables.user_account.c.email == email.strip().lower()
                )
            ).scalar()
        if uid is None:
            raise NotFound("user", email)
        return int(uid)

    def authenticate(self, email: str, password: str, address: str = "") -> Principal | None:
        """The user if the password is right and the account enabled.

        Refused with :class:`web.throttle.SignInThrottled` (before any hashing) when the
        account or the ``address`` has failed too often lately, or when too many passwords
        are being checked at once.
        """
        self.throttle.check(email, address)
        with read(self.db) as conn:
            row = conn.execute(
                sa.select(tables.user_account).where(
                    tables.user_account.c.email == email.strip().lower()
                )
            ).first()
        with self.hashing.hold():
            if row is None:
                self.hasher.hash(password)  # same cost whether the account exists or not
                ok = False
            else:
                try:
                    ok = self.hasher.verify(row.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
        if not ok or row is None or row.disabled_at is not None:
            self.throttle.failed(email, address)
            return None
        self.throttle.succeeded(email)
        return _principal(row)

    def end_sessions(self, user_id: int) -> None:
        """Revoke every session of this user (sign-out: on every device)."""
        self._update_user(user_id)

    def set_password(self, user_id: int, password: str) -> None:
        """A new password; every session of the user ends."""
        _check_password(password)
        with self.hashing.hold():
            password_hash = self.hasher.hash(password)
        self._update_user(user_id, password_hash=password_hash)

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Disable (no sign-in, every session and token refused) or enable again."""
        self._update_user(user_id, disabled_at=self._now() if disabled else None)

    def _update_user(self, user_id: int, **values: Any) -> None:
        account = tables.user_account
        with self.db.begin() as conn:
            updated = conn.execute(
                account.update()
                .where(account.c.id == user_id)
                .values(session_version=account.c.session_version + 1, **values)
            ).rowcount
        if not updated:
            raise NotFound("user", user_id)

    # -- API tokens ----------------------------------------------------------------------
    def create_token(self, user_id: int, name: str = "") -> str:
        token = "cpl_" + secrets.token_urlsafe(32)
        now = self._now()
        with self.db.begin() as conn:
            conn.execute(
                tables.api_token.insert().values(
                    user_id=user_id,
                    name=name,
                    token_hash=_token_hash(token),
                    created_at=now,
                    expires_at=now + self.token_max_age,
                )
            )
        return token

    def user_for_token(self, token: str) -> Principal | None:
        """The token's user, unless the token is unknown, revoked or expired, or the user
        disabled. Tokens created before expiry existed expire ``token_max_age`` after their
        creation."""
        now = self._now()
        t = tables.api_token
        with read(self.db) as conn:
            row = conn.execute(
                sa.select(
                    tables.user_account,
                    t.c.id.label("token_id"),
                    t.c.created_at.label("token_created"),
                    t.c.expires_at,
                    t.c.last_used_at,
                )
                .join(t, t.c.user_id == tables.user_account.c.id)
                .where(
                    t.c.token_hash == _token_hash(token),
                    t.c.revoked_at.is_(None),
                    tables.user_account.c.disabled_at.is_(None),
                )
            ).first()
        if row is None:
            return None
        expires = row.expires_at or row.token_created + self.token_max_age
        if now >= expires:
            return None
        if row.last_used_at is None or now - row.last_used_at >= _LAST_USE_PRECISION:
            with self.db.begin() as conn:
                conn.execute(t.update().where(t.c.id == row.token_id).values(last_used_at=now))
        return _principal(row)

    def tokens(self, user_id: int) -> list[TokenInfo]:
        t = tables.api_token
        with read(self.db) as conn:
            rows = conn.execute(sa.select(t).where(t.c.user_id == user_id).order_by(t.c.id)).all()
        return [
            TokenInfo(
                r.id,
                r.name,
                r.created_at,
                r.expires_at or r.created_at + self.token_max_age,
                r.last_used_at,
                r.revoked_at,
            )
            for r in rows
        ]

    def revoke_token(self, user_id: int, token_id: int) -> None:
        """Revoke one of this user's tokens (NotFound for another user's token)."""
        t = tables.api_token
        with self.db.begin() as conn:
            updated = conn.execute(
                t.update()
                .where(t.c.id == token_id, t.c.user_id == user_id)
                .values(revoked_at=sa.func.coalesce(t.c.revoked_at, self._now()))
            ).rowcount
        if not updated:
            raise NotFound("API token", token_id)

    # -- rights --------------------------------------------------------------------------
    def piloted(self, who: Principal, project_id: int | None = None) -> set[int]:
        """The projects this user pilots (active partner row with role pilot and their email);
        with ``project_id``, only whether they pilot that one (read through its index).

        Active as everywhere else: a partner announced as leaving is still in until that day.
        """
        today = paris_date(self._now())
        query = sa.select(tables.partner.c.project_id, tables.partner.c.roles).where(
            sa.func.lower(tables.partner.c.email) == who.email,
            sa.or_(tables.partner.c.left_on.is_(None), tables.partner.c.left_on > today),
        )
        if project_id is not None:
            query = query.where(tables.partner.c.project_id == project_id)
        with read(self.db) as conn:
            rows = conn.execute(query).all()
        return {r.project_id for r in rows if "pilot" in (r.roles or [])}

    def readable(self, who: Principal) -> set[int] | None:
        """Project ids this user may read; ``None`` means all of them (the agency)."""
        return None if who.is_agency else self.piloted(who)

    def check_read(self, who: Principal, project_id: int) -> None:
        if not who.is_agency and project_id not in self.piloted(who, project_id):
            raise Forbidden(who.email, "see", project_id)

    def check_act(self, who: Principal, project_id: int) -> None:
        if project_id not in self.piloted(who, project_id):
            raise Forbidden(who.email, "act on", project_id)
