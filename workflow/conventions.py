"""Partnership conventions as records (seed 001, "Contractualisation").

A convention is signed by the agency and each partner party, with the amount granted to
that partner. It takes effect the day its last party signs and lasts one period (one year,
or as the programme's definition says); the pilot or the agency renews it expressly for a
new period, possibly with new amounts; without a renewal, reminders go out before its end
(3 and 1 months by default) and it lapses after it. An avenant changes amounts from its
date; the amounts in force on any date are read back from the changes. A party gives
notice by letter and leaves one month (the definition's ``notice``) after it is received:
its reminders stop that day and the steering roles are told.

Every change is one transaction: the records, its history row (with its author) and the
reminders and messages it plans. Refusals are :class:`~workflow.errors.InvalidInput`
naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import owed_reports, tables
from workflow.calendar import months_later, paris_date
from workflow.database import read
from workflow.definition import Definition
from workflow.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = [
    "CONVENTION_TRIGGERS",
    "DEFAULT_LABEL",
    "MAX_AMOUNT_CENTS",
    "Conventions",
    "PartyIn",
    "amounts_in_force",
    "author",
    "convention_anchor",
    "funding_year",
    "history",
    "insert_convention",
    "parse_euros",
    "period_months",
    "status_of",
]

DEFAULT_LABEL = "Convention de partenariat"
CONVENTION_TRIGGERS = (
    "convention_created",
    "convention_signed",
    "convention_effective",
    "convention_renewed",
    "convention_amended",
    "convention_notice",
)
"""What the history says of a convention's changes (they are not phase changes)."""
MAX_AMOUNT_CENTS = 100_000_000_00
"""The largest amount one party can be granted (100 million euros): anything above is a typo."""


@dataclass(frozen=True)
class PartyIn:
    """A partner party to a new convention and the amount granted to it (None: not known)."""

    partner_id: int
    amount_cents: int | None = None


def period_months(definition: Definition) -> int:
    """How long one period of the programme's convention lasts (one year by default)."""
    return definition.convention.duration if definition.convention is not None else 12


def status_of(effective_on: date | None, ends_on: date | None, today: date) -> str:
    """``awaiting_signatures``, ``in_force`` or ``lapsed`` (after its end, not renewed)."""
    if effective_on is None:
        return "awaiting_signatures"
    if ends_on is not None and today > ends_on:
        return "lapsed"
    if today < effective_on:
        return "awaiting_signatures"
    return "in_force"


def check_amount(field: str, cents: int | None) -> int | None:
    if cents is None:
        return None
    if cents < 0:
        raise InvalidInput(field, f"an amount cannot be below 0 (got {cents / 100:.2f} EUR)")
    if cents > MAX_AMOUNT_CENTS:
        raise InvalidInput(
            field, f"{cents / 100:.2f} EUR is more than {MAX_AMOUNT_CENTS // 100} EUR: check it"
        )
    return cents


_EUROS = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")


def parse_euros(field: str, text: str) -> int | None:
    """An amount typed by a person (``22 999,50 €``, ``22999.5``, ``23000``) in euro cents;
    None when left empty. What it is not is refused naming ``field``."""
    cleaned = text.strip()
    for noise in ("€", "EUR", "eur", " ", "\u00a0", "\u202f"):
        cleaned = cleaned.replace(noise, "")
    if not cleaned:
        return None
    if cleaned.startswith("-"):
        raise InvalidInput(field, f"an amount cannot be below 0 (got {text.strip()!r})")
    match = _EUROS.match(cleaned)
    if match is None:
        raise InvalidInput(field, f"{text.strip()!r} is not an amount in euros (e.g. 22 999,50)")
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return check_amount(field, cents)


def funding_year(
    definition: Definition, project_start: date, today: date
) -> tuple[int, int] | None:
    """(N, M) of "année N sur M" for a programme funded over M calendar years from the
    project's start (ACESO 2017-2021: 2018 is year 2 of 5); None outside those years or
    when the programme's funding is not multi-year."""
    funding = definition.funding
    if funding is None or funding.years is None:
        return None
    year = today.year - project_start.year + 1
    if not 1 <= year <= funding.years:
        return None
    return year, funding.years


def insert_convention(
    conn: sa.Connection,
    *,
    project_id: int,
    label: str,
    duration_months: int,
    parties: Sequence[PartyIn],
    by: str,
    now: Any,
    effective_on: date | None = None,
    ends_on: date | None = None,
) -> int:
    """Write a convention and its parties (checked by the caller); signed by every party on
    ``effective_on`` when it is given (a convention recorded as already in force)."""
    convention_id = int(
        conn.execute(
            sa.insert(tables.convention)
            .values(
                project_id=project_id,
                label=label,
                duration_months=duration_months,
                effective_on=effective_on,
                ends_on=ends_on,
                created_by=by,
                created_at=now,
            )
            .returning(tables.convention.c.id)
        ).scalar_one()
    )
    if parties:
        conn.execute(
            sa.insert(tables.convention_party),
            [
                {
                    "convention_id": convention_id,
                    "partner_id": p.partner_id,
                    "amount_cents": p.amount_cents,
                    "signed_on": effective_on,
                    "notice_received_on": None,
                    "leaves_on": None,
                }
                for p in parties
            ],
        )
    return convention_id


def author(by: str) -> str:
    """Who records a change, as the history shows them: required, at most 200 characters."""
    by = by.strip()
    if not by:
        raise InvalidInput("by", "say who records this (it goes in the history)")
    return by[:200]


def history(
    conn: sa.Connection, project: Any, trigger: str, by: str, now: Any, comment: str
) -> None:
    """A convention change in the project's history: its phase stays as it is."""
    conn.execute(
        sa.insert(tables.history).values(
            project_id=project.id,
            at=now,
            actor=by,
            trigger=trigger,
            from_phase=project.phase,
            to_phase=project.phase,
            comment=comment,
        )
    )


def amounts_in_force(conn: sa.Connection, convention_id: int, on: date) -> dict[int, int | None]:
    """Each party's amount on ``on``: the amount it was granted, then each renewal's and
    avenant's amounts for it, in the order they took effect, up to ``on``."""
    amounts: dict[int, int | None] = {
        row.partner_id: row.amount_cents
        for row in conn.execute(
            sa.select(
                tables.convention_party.c.partner_id, tables.convention_party.c.amount_cents
            ).where(tables.convention_party.c.convention_id == convention_id)
        )
    }
    changes = conn.execute(
        sa.select(tables.convention_change.c.amounts)
        .where(
            tables.convention_change.c.convention_id == convention_id,
            tables.convention_change.c.effective_on <= on,
        )
        .order_by(tables.convention_change.c.effective_on, tables.convention_change.c.id)
    ).scalars()
    for changed in changes:
        for partner_id, cents in (changed or {}).items():
            if int(partner_id) in amounts:
                amounts[int(partner_id)] = cents
    return amounts


def convention_anchor(conn: sa.Connection, project: Any) -> date | None:
    """The date the project's yearly cycle counts from: its first convention's taking
    effect, else the convention start given at its creation."""
    first = conn.execute(
        sa.select(sa.func.min(tables.convention.c.effective_on)).where(
            tables.convention.c.project_id == project.id
        )
    ).scalar_one_or_none()
    return first if first is not None else project.convention_start  # type: ignore[no-any-return]


class Conventions:
    """What the pilot or the agency records about a project's conventions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- shared checks ------------------------------------------------------------------------
    def _project(self, conn: sa.Connection, project_id: int) -> tuple[Any, Definition]:
        from workflow.progress import closed

        project = self.engine.project_row(conn, project_id)
        if closed(self.engine, project):
            raise InvalidInput(
                "project",
                f"project {project_id} is closed ({project.phase}); nothing can be recorded",
            )
        return project, self.engine.project_definition(project)

    def _convention(self, conn: sa.Connection, convention_id: int) -> Any:
        row = conn.execute(
            sa.select(tables.convention).where(tables.convention.c.id == convention_id)
        ).one_or_none()
        if row is None:
            raise NotFound("convention", convention_id)
        return row

    def _parties(self, conn: sa.Connection, convention_id: int) -> dict[int, Any]:
        rows = conn.execute(
            sa.select(tables.convention_party, tables.partner.c.organisation)
            .join(tables.partner, tables.partner.c.id == tables.convention_party.c.partner_id)
            .where(tables.convention_party.c.convention_id == convention_id)
            .order_by(tables.convention_party.c.id)
        ).all()
        return {row.partner_id: row for row in rows}

    @staticmethod
    def _by(by: str) -> str:
        return author(by)

    def _check_amounts(
        self, amounts: Mapping[int, int | None], parties: Mapping[int, Any], today: date
    ) -> dict[str, int | None]:
        checked: dict[str, int | None] = {}
        for partner_id, cents in amounts.items():
            field = f"amounts.{partner_id}"
            party = parties.get(partner_id)
            if party is None:
                raise InvalidInput(field, f"partner {partner_id} is not a party to this convention")
            if party.leaves_on is not None and party.leaves_on <= today:
                raise InvalidInput(
                    field, f"{party.organisation} left the convention on {party.leaves_on}"
                )
            checked[str(partner_id)] = check_amount(field, cents)
        return checked

    def project_of(self, convention_id: int) -> int:
        """The project a convention belongs to (``NotFound`` if there is no such convention)."""
        with read(self.engine.db) as conn:
            return int(self._convention(conn, convention_id).project_id)

    # -- recording ----------------------------------------------------------------------------
    def create(
        self,
        project_id: int,
        parties: Sequence[PartyIn],
        *,
        by: str,
        label: str = DEFAULT_LABEL,
    ) -> int:
        """A convention to be signed by ``parties`` (partners of the project, each once)."""
        by = self._by(by)
        label = label.strip()
        if not label:
            raise InvalidInput("label", "a convention needs a title")
        if len(label) > 300:
            raise InvalidInput("label", "a convention's title is at most 300 characters")
        if not parties:
            raise InvalidInput("parties", "a convention needs at least one partner party")
        now = self.engine.clock.now()
        today = paris_date(now)
        with self.engine.db.begin() as conn:
            project, definition = self._project(conn, project_id)
            partners = {
                row.id: row
                for row in conn.execute(
                    sa.select(tables.partner).where(tables.partner.c.project_id == project_id)
                )
            }
            seen: set[int] = set()
            for i, party in enumerate(parties):
                field = f"parties[{i}].partner_id"
                row = partners.get(party.partner_id)
                if row is None:
                    raise InvalidInput(
                        field,
                        f"partner {party.partner_id} is not a partner of project {project_id}",
                    )
                if row.left_on is not None and row.left_on <= today:
                    raise InvalidInput(
                        field, f"{row.organisation} left the project on {row.left_on}"
                    )
                if party.partner_id in seen:
                    raise InvalidInput(field, f"{row.organisation} is a party only once")
                seen.add(party.partner_id)
                check_amount(f"parties[{i}].amount", party.amount_cents)
            convention_id = insert_convention(
                conn,
                project_id=project_id,
                label=label,
                duration_months=period_months(definition),
                parties=parties,
                by=by,
                now=now,
            )
            names = ", ".join(partners[p.partner_id].organisation for p in parties)
            history(conn, project, "convention_created", by, now, f"{label} ({names})")
        return convention_id

    def sign(self, convention_id: int, partner_id: int, *, on: date, by: str) -> date | None:
        """A party signs on ``on``. When it is the last one, the convention takes effect that
        day (the latest signature) for one period: returns that date, else None."""
        by = self._by(by)
        now = self.engine.clock.now()
        today = paris_date(now)
        if on > today:
            raise InvalidInput("on", f"a signature on {on} is in the future (today is {today})")
        with self.engine.db.begin() as conn:
            convention = self._convention(conn, convention_id)
            project, definition = self._project(conn, convention.project_id)
            parties = self._parties(conn, convention_id)
            party = parties.get(partner_id)
            if party is None:
                raise InvalidInput(
                    "partner_id",
                    f"partner {partner_id} is not a party to convention {convention_id}",
                )
            if party.signed_on is not None:
                raise InvalidInput(
                    "partner_id", f"{party.organisation} already signed on {party.signed_on}"
                )
            conn.execute(
                sa.update(tables.convention_party)
                .where(tables.convention_party.c.id == party.id)
                .values(signed_on=on)
            )
            history(
                conn,
                project,
                "convention_signed",
                by,
                now,
                f"{convention.label}: {party.organisation} ({on})",
            )
            signatures = [
                on if p.partner_id == partner_id else p.signed_on for p in parties.values()
            ]
            if any(s is None for s in signatures):
                return None
            effective = max(s for s in signatures if s is not None)
            ends = months_later(effective, convention.duration_months)
            conn.execute(
                sa.update(tables.convention)
                .where(tables.convention.c.id == convention_id)
                .values(effective_on=effective, ends_on=ends)
            )
            history(
                conn,
                project,
                "convention_effective",
                by,
                now,
                f"{convention.label}: {effective} – {ends}",
            )
            planner = self.engine.planner
            planner.plan_convention_end(conn, definition, project.id, convention_id, ends)
            anchor = convention_anchor(conn, project)
            if anchor == effective and project.convention_start is None:
                # The project's first convention: its yearly cycle starts here.
                planner.plan_annual_review(conn, definition, project.id, effective, 1)
        return effective

    def renew(
        self,
        convention_id: int,
        *,
        by: str,
        amounts: Mapping[int, int | None] | None = None,
        on: date | None = None,
    ) -> date:
        """An express renewal for one more period from the current end, with new amounts for
        the parties given; returns the new end. A lapsed convention cannot be renewed."""
        by = self._by(by)
        now = self.engine.clock.now()
        today = paris_date(now)
        on = on or today
        with self.engine.db.begin() as conn:
            convention = self._convention(conn, convention_id)
            project, definition = self._project(conn, convention.project_id)
            if definition.convention is not None and definition.convention.renewal == "none":
                raise InvalidInput("convention", f"{definition.title}: conventions are not renewed")
            if convention.effective_on is None:
                raise InvalidInput(
                    "convention", f"{convention.label} is not in force yet: every party must sign"
                )
            if on < convention.effective_on:
                raise InvalidInput(
                    "on",
                    f"a renewal on {on} is before the convention took effect on "
                    f"{convention.effective_on}",
                )
            if on > convention.ends_on:
                raise InvalidInput(
                    "on",
                    f"{convention.label} lapsed on {convention.ends_on}, before {on}: "
                    "record a new convention",
                )
            parties = self._parties(conn, convention_id)
            checked = self._check_amounts(amounts or {}, parties, today)
            start = convention.ends_on
            ends = months_later(start, convention.duration_months)
            conn.execute(
                sa.insert(tables.convention_change).values(
                    convention_id=convention_id,
                    kind="renewal",
                    effective_on=start,
                    ends_on=ends,
                    object="",
                    amounts=checked,
                    recorded_by=by,
                    recorded_at=now,
                )
            )
            conn.execute(
                sa.update(tables.convention)
                .where(tables.convention.c.id == convention_id)
                .values(ends_on=ends)
            )
            from workflow.planner import cancel_chains

            cancel_chains(conn, [f"convention:{convention_id}:{start}"])
            self.engine.planner.plan_convention_end(
                conn, definition, project.id, convention_id, ends
            )
            history(
                conn,
                project,
                "convention_renewed",
                by,
                now,
                f"{convention.label}: {start} – {ends}",
            )
        return ends

    def amend(
        self,
        convention_id: int,
        *,
        on: date,
        object: str,
        amounts: Mapping[int, int | None],
        by: str,
    ) -> int:
        """An avenant from ``on``: its object and the parties' new amounts."""
        by = self._by(by)
        object = object.strip()
        if not object:
            raise InvalidInput("object", "an avenant needs its object (what it changes)")
        now = self.engine.clock.now()
        today = paris_date(now)
        with self.engine.db.begin() as conn:
            convention = self._convention(conn, convention_id)
            project, _definition = self._project(conn, convention.project_id)
            if convention.effective_on is None or on < convention.effective_on:
                raise InvalidInput(
                    "on",
                    f"an avenant on {on} is before the convention took effect"
                    + (f" on {convention.effective_on}" if convention.effective_on else ""),
                )
            if on > convention.ends_on:
                raise InvalidInput(
                    "on",
                    f"an avenant on {on} is after the convention's end on {convention.ends_on}",
                )
            parties = self._parties(conn, convention_id)
            checked = self._check_amounts(amounts, parties, today)
            change_id = int(
                conn.execute(
                    sa.insert(tables.convention_change)
                    .values(
                        convention_id=convention_id,
                        kind="avenant",
                        effective_on=on,
                        ends_on=None,
                        object=object[:2000],
                        amounts=checked,
                        recorded_by=by,
                        recorded_at=now,
                    )
                    .returning(tables.convention_change.c.id)
                ).scalar_one()
            )
            history(conn, project, "convention_amended", by, now, f"{convention.label}: {object}")
        return change_id

    def terminate(self, convention_id: int, partner_id: int, *, received_on: date, by: str) -> date:
        """A party's notice, received on ``received_on``: it leaves the convention and the
        project one notice period later (its reminders stop that day; the steering roles are
        told). Returns that day."""
        by = self._by(by)
        now = self.engine.clock.now()
        today = paris_date(now)
        if received_on > today:
            raise InvalidInput(
                "received_on",
                f"a notice received on {received_on} is in the future (today is {today})",
            )
        with self.engine.db.begin() as conn:
            convention = self._convention(conn, convention_id)
            project, definition = self._project(conn, convention.project_id)
            parties = self._parties(conn, convention_id)
            party = parties.get(partner_id)
            if party is None:
                raise InvalidInput(
                    "partner_id",
                    f"partner {partner_id} is not a party to convention {convention_id}",
                )
            if party.notice_received_on is not None:
                raise InvalidInput(
                    "partner_id",
                    f"{party.organisation} gave notice already (received {party.notice_received_on})",
                )
            if convention.effective_on is None or received_on < convention.effective_on:
                raise InvalidInput(
                    "received_on",
                    f"a notice received on {received_on} is before the convention took effect"
                    + (f" on {convention.effective_on}" if convention.effective_on else ""),
                )
            notice = definition.convention.notice if definition.convention is not None else 1
            leaves = months_later(received_on, notice)
            conn.execute(
                sa.update(tables.convention_party)
                .where(tables.convention_party.c.id == party.id)
                .values(notice_received_on=received_on, leaves_on=leaves)
            )
            partner = conn.execute(
                sa.select(tables.partner).where(tables.partner.c.id == partner_id)
            ).one()
            if partner.left_on is None or partner.left_on > leaves:
                conn.execute(
                    sa.update(tables.partner)
                    .where(tables.partner.c.id == partner_id)
                    .values(left_on=leaves)
                )
                owed_reports.partner_leaves(conn, self.engine.registry, partner_id, leaves)
                self.engine.planner.on_partner_change(conn, project, partner, False, leaves, now)
            history(
                conn,
                project,
                "convention_notice",
                by,
                now,
                f"{convention.label}: {party.organisation} ({received_on} → {leaves})",
            )
        return leaves
