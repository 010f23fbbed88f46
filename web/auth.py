"""Who is asking, and what they may do.

- Agency users see every project; they act on a project only where they are its pilot.
- Pilot users see and act on the projects they pilot: a user pilots a project when one of
  the project's active partner rows has the role ``pilot`` and the user's email.
- Partners have no account: they act through signed personal links (see ``web.links``).

Passwords are hashed with argon2 (argon2-cffi); API tokens are 256 random bits of which only
the SHA-256 is stored (a slow hash adds nothing to a secret that cannot be guessed).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflow import tables
from workflow.addresses import check_email
from workflow.calendar import paris_date
from workflow.database import read
from workflow.errors import InvalidInput, WorkflowError

__all__ = [
    "ROLES",
    "Accounts",
    "Forbidden",
    "NotSignedIn",
    "Principal",
]

ROLES = ("agency", "pilot")
_hasher = PasswordHasher()


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

    @property
    def is_agency(self) -> bool:
        return self.role == "agency"


def _principal(row: Any) -> Principal:
    return Principal(row.id, row.email, row.name, row.role, row.lang)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, db: sa.Engine, now: Any) -> None:
        self.db, self._now = db, now

    # -- users ---------------------------------------------------------------------------
    def create_user(
        self, email: str, password: str, *, role: str, name: str = "", lang: str = "fr"
    ) -> Principal:
        email = check_email("email", email).lower()
        if role not in ROLES:
            raise InvalidInput("role", f"{role!r} is not one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise InvalidInput("password", "at least 8 characters are needed")
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
                    password_hash=_hasher.hash(password),
                    lang=lang,
                    created_at=self._now(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return Principal(uid, email, name, role, lang)

    def user(self, user_id: int) -> Principal | None:
        with read(self.db) as conn:
            row = conn.execute(
                sa.select(tables.user_account).where(tables.user_account.c.id == user_id)
            ).first()
        return _principal(row) if row else None

    def authenticate(self, email: str, password: str) -> Principal | None:
        with read(self.db) as conn:
            row = conn.execute(
                sa.select(tables.user_account).where(
                    tables.user_account.c.email == email.strip().lower()
                )
            ).first()
        if row is None:
            _hasher.hash(password)  # same cost whether the account exists or not
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return _principal(row)

    # -- API tokens ----------------------------------------------------------------------
    def create_token(self, user_id: int, name: str = "") -> str:
        token = "cpl_" + secrets.token_urlsafe(32)
        with self.db.begin() as conn:
            conn.execute(
                tables.api_token.insert().values(
                    user_id=user_id,
                    name=name,
                    token_hash=_token_hash(token),
                    created_at=self._now(),
                )
            )
        return token

    def user_for_token(self, token: str) -> Principal | None:
        with read(self.db) as conn:
            row = conn.execute(
                sa.select(tables.user_account)
                .join(tables.api_token, tables.api_token.c.user_id == tables.user_account.c.id)
                .where(tables.api_token.c.token_hash == _token_hash(token))
            ).first()
        return _principal(row) if row else None

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
