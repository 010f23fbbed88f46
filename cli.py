"""The ``copilote`` command line. Wires the pieces like ``service.py`` does.

Errors are one clear line on stderr and a non-zero exit, never a traceback: 2 for bad input
(a wrong definition, an unknown project, an invalid field), 3 for a refused or conflicting
step or a milestone already recorded. A failed command changes nothing (each command is one
transaction).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from datetime import date, datetime, time
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
import typer

from notifications.days import non_working_day
from notifications.wording import say
from service import LOOPBACK, Copilote, Settings, configure_logging
from web.links import LinkError
from web.refusals import how_to_fix, overdue_words, sentence
from workflow.calendar import PARIS
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.database import read
from workflow.definition import Definition
from workflow.diagram import mermaid
from workflow.driver import Tick
from workflow.engine import NewProject, PartnerIn
from workflow.errors import (
    ConflictError,
    DefinitionError,
    InvalidInput,
    MigrationRefused,
    NotFound,
    TransitionRefused,
    UnknownTrigger,
    Unmet,
    WorkflowError,
)
from workflow.loader import load_definition
from workflow.progress import overdue_items
from workflow.read_models import detail

app = typer.Typer(
    help="Copilote: co-construction project lifecycles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
definitions_app = typer.Typer(help="Programme definitions.", no_args_is_help=True)
project_app = typer.Typer(help="Projects.", no_args_is_help=True)
milestone_app = typer.Typer(help="Milestones.", no_args_is_help=True)
meeting_app = typer.Typer(help="Meetings (COPIL, COTECH, ...).", no_args_is_help=True)
partner_app = typer.Typer(help="Partners.", no_args_is_help=True)
app.add_typer(definitions_app, name="definitions")
app.add_typer(project_app, name="project")
app.add_typer(milestone_app, name="milestone")
app.add_typer(meeting_app, name="meeting")
app.add_typer(partner_app, name="partner")
user_app = typer.Typer(
    help="Users who sign in (agency, pilots) and their API tokens.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
outbox_app = typer.Typer(help="The outbox: messages waiting to be sent.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")

F = TypeVar("F", bound=Callable[..., Any])
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: COPILOTE_DATABASE_URL or sqlite:///copilote.db)"
    ),
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Act as of this instant (ISO 8601, e.g. 2026-06-01T09:00+02:00)"),
]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"copilote: {message}", err=True)
    raise typer.Exit(code)


def _fix_command(unmet: Unmet, project_id: int) -> str:
    """The command that records what ``unmet`` lacks (none for partners' reports: they answer
    through their own link)."""
    commands = {
        "record_milestone": f"copilote milestone done {project_id} {unmet.subject} --by NAME",
        "record_meeting": f"copilote meeting held {project_id} "
        + ("--series" if unmet.kind == "series_not_held" else "--occurrence")
        + f" {unmet.subject}",
        "record_decision": f"copilote decision {project_id} {unmet.subject} --by NAME",
        "add_partner": f"copilote partner add {project_id} --org ORGANISATION --email EMAIL",
        "give_comment": 'copilote project advance ... --comment "WHY"',
    }
    return commands.get(unmet.fix, "")


def errors(fn: F) -> F:
    """Map the engine's errors to one line on stderr and an exit code, once for every command."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DefinitionError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except TransitionRefused as exc:
            # The engine's line, then each condition in the reader's words and how to meet it.
            lang = kwargs.get("lang") or "fr"
            typer.echo(f"copilote: {exc}", err=True)
            for u in exc.unmet:
                typer.echo(f"  - {sentence(u, lang)}", err=True)
                typer.echo(f"    {say('refusal.how_to_fix', lang)} {how_to_fix(u, lang)}", err=True)
                command = _fix_command(u, exc.project_id)
                if command:
                    typer.echo(f"      $ {command}", err=True)
            raise typer.Exit(3) from None
        except (ConflictError, MigrationRefused) as exc:
            fail(str(exc), 3)
        except (InvalidInput, NotFound, UnknownTrigger, LinkError) as exc:
            fail(str(exc), 2)
        except WorkflowError as exc:
            fail(str(exc), 1)
        except sa.exc.OperationalError as exc:
            fail(
                f"the database cannot be used ({exc.orig}); check --db or COPILOTE_DATABASE_URL", 1
            )

    return wrapper  # type: ignore[return-value]


def parse_instant(value: str | None, field: str = "--now") -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field, f"{value!r} is not an ISO date-time (e.g. 2026-06-01T09:00+02:00)"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=PARIS)


def parse_day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def system(db: str | None, now: str | None = None) -> Copilote:
    settings = Settings() if db is None else Settings(database_url=db)
    instant = parse_instant(now)
    clock: Clock = FixedClock(instant) if instant else SystemClock()
    return Copilote(settings, clock)


# -- definitions ------------------------------------------------------------------------------
@definitions_app.command("validate")
def definitions_validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Files (default: the shipped ones)")
    ] = None,
) -> None:
    """Check definition files; exit 2 and list every problem by file, line and field."""
    from notifications import Renderer

    paths = files or sorted(Settings().definitions_dir.glob("*.yaml"))
    templates = Renderer().kinds()
    bad = False
    for path in paths:
        try:
            d = load_definition(path, templates)
            typer.echo(
                f"{path}: ok ({d.id} v{d.version}, {len(d.phases)} phases, {len(d.transitions)} transitions)"
            )
        except DefinitionError as exc:
            typer.echo(str(exc), err=True)
            bad = True
    if bad:
        raise typer.Exit(2)


@definitions_app.command("list")
@errors
def definitions_list(db: DbOption = None) -> None:
    c = system(db)
    for d in sorted(c.registry, key=lambda d: (d.id, d.version)):
        typer.echo(f"{d.id} v{d.version}: {d.title}")


@definitions_app.command("schema")
def definitions_schema() -> None:
    """Print the JSON Schema of the definition format (for editors)."""
    typer.echo(json.dumps(Definition.model_json_schema(), indent=2, ensure_ascii=False))


@definitions_app.command("show")
@errors
def definitions_show(
    definition_id: str,
    version: int | None = None,
    format: Annotated[str, typer.Option("--format", help="text or mermaid")] = "text",
    db: DbOption = None,
) -> None:
    """Show a lifecycle: phases, steps and their conditions, milestones, meetings."""
    d = system(db).engine.definition(definition_id, version)
    if format == "mermaid":
        typer.echo(mermaid(d))
        return
    if format != "text":
        raise InvalidInput("--format", "use text or mermaid")
    typer.echo(f"{d.title} ({d.id} v{d.version})")
    for p in d.phases:
        typer.echo(f"  phase {p.key}: {p.label}{' (terminal)' if p.key in d.terminal else ''}")
        for t in d.transitions:
            if p.key in t.source:
                conds = "; ".join(
                    next(f"{k}={v}" for k, v in c.model_dump().items() if v is not None)
                    for c in t.conditions
                )
                typer.echo(f"    -> {t.dest} by '{t.trigger}'{' [' + conds + ']' if conds else ''}")
        for m in d.milestones:
            if m.phase == p.key:
                typer.echo(
                    f"    milestone {m.key}: {m.label}, {d.role_label(m.responsible)}, {m.deadline.describe()}"
                )
    for s in d.meetings:
        what = s.cadence.describe() if s.cadence else ", ".join(o.label for o in s.occurrences)
        typer.echo(f"  meetings {s.key}: {s.label} ({what})")


# -- projects ----------------------------------------------------------------------------------
@project_app.command("create")
@errors
def project_create(
    definition: Annotated[str, typer.Option(help="Programme id, e.g. acia")],
    title: Annotated[str, typer.Option()],
    start: Annotated[str, typer.Option(help="Start date YYYY-MM-DD")],
    pilot_email: Annotated[str, typer.Option()],
    pilot_org: Annotated[str, typer.Option()],
    pilot_name: Annotated[str, typer.Option()] = "",
    territory: str = "",
    variant: str | None = None,
    funding: Annotated[float | None, typer.Option(help="Yearly funding in euros")] = None,
    convention_start: str | None = None,
    agency_email: str | None = None,
    agency_org: str = "Agence régionale de santé",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    c = system(db, now)
    agency = PartnerIn(agency_org, agency_email, roles=("agency",)) if agency_email else None
    pid = c.engine.create_project(
        NewProject(
            definition_id=definition,
            title=title,
            start_date=parse_day(start, "--start"),  # type: ignore[arg-type]
            pilot=PartnerIn(pilot_org, pilot_email, pilot_name, roles=("pilot", "copil")),
            territory=territory,
            variant=variant,
            agency=agency,
            convention_start=parse_day(convention_start, "--convention-start"),
            funding_cents=None if funding is None else round(funding * 100),
            actor=pilot_name or pilot_email,
        )
    )
    typer.echo(f"project {pid} created")
    _show(c, pid)


@project_app.command("list")
@errors
def project_list(
    db: DbOption = None, programme: str | None = None, phase: str | None = None
) -> None:
    c = system(db)
    with read(c.db) as conn:
        found = detail.project_summaries(
            c.engine, conn, programme=programme, phase=phase, limit=None
        )
    for p in found:
        typer.echo(
            f"{p.id}\t{p.definition_id} v{p.definition_version}\t{p.phase}\t{p.territory}\t{p.title}"
        )


CLI_LANG = "en"
"""The language of what the CLI words from data (overdue items)."""


def _show(c: Copilote, pid: int) -> None:
    with read(c.db) as conn:
        p = detail.project_detail(c.engine, conn, pid)
    typer.echo(
        f"{p.title} — {p.definition_title} (v{p.definition_version}){' — ' + p.variant if p.variant else ''}"
    )
    typer.echo(
        f"  territory: {p.territory or '-'}; start {p.start_date}; phase: {p.phase_label} ({p.phase})"
    )
    amount = (
        "-" if p.funding_cents is None else f"{p.funding_cents / 100:,.2f} EUR".replace(",", " ")
    )
    typer.echo(f"  funding: {amount} -> {p.funding_instrument}")
    if p.convention_start:
        typer.echo(f"  convention: {p.convention_start} to {p.convention_end}")
    typer.echo(f"  next steps: {', '.join(p.next_steps)}")
    typer.echo("  milestones:")
    for m in p.milestones:
        flag = non_working_day(m.non_working_day, "fr") if m.non_working_day else None
        state = {"done": f"done {m.done_on}", "late": "LATE"}.get(m.state, m.state)
        typer.echo(
            f"    {m.key}: {m.label} — due {m.due_on}{' (' + flag + ')' if flag else ''} — "
            f"{m.responsible_label} — {state}"
        )
    typer.echo("  meetings:")
    for mt in p.meetings:
        when = (
            mt.starts_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
            if mt.starts_at
            else (mt.held_on or "not planned")
        )
        typer.echo(f"    #{mt.id} {mt.label}: {mt.status} ({when})")
    typer.echo("  partners:")
    for pa in p.partners:
        left = f", leaves {pa.left_on}" if pa.left_on else ""
        typer.echo(
            f"    #{pa.id} {pa.organisation} <{pa.email}> [{', '.join(pa.roles)}] joined {pa.joined_on}{left}"
        )
    if p.overdue:
        typer.echo("  overdue:")
        for item in p.overdue:
            what = overdue_words(item, CLI_LANG)
            late = say("overdue.days_late", CLI_LANG, days=item.days_late(p.today))
            typer.echo(f"    {what}: {late}, {item.responsible}")
    typer.echo("  history:")
    for h in p.history:
        typer.echo(
            f"    {h.at.astimezone(PARIS):%Y-%m-%d %H:%M} {h.actor}: {h.trigger} {h.from_phase or '-'} -> {h.to_phase}"
            f"{' (' + h.comment + ')' if h.comment else ''}"
        )


@project_app.command("show")
@errors
def project_show(project_id: int, db: DbOption = None, now: NowOption = None) -> None:
    _show(system(db, now), project_id)


@project_app.command("advance")
@errors
def project_advance(
    project_id: int,
    trigger: str,
    actor: Annotated[str, typer.Option()],
    comment: str | None = None,
    expect: Annotated[
        str | None, typer.Option(help="Refuse if the project is no longer in this phase")
    ] = None,
    lang: Annotated[
        str, typer.Option(help="Language of the unmet conditions if refused (fr or en)")
    ] = "fr",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Advance a project; refused (exit 3) with every unmet condition and how to meet it."""
    c = system(db, now)
    result = c.engine.advance(
        project_id, trigger, actor=actor, comment=comment, expected_phase=expect
    )
    typer.echo(f"project {project_id}: {result.from_phase} -> {result.to_phase}")


@project_app.command("migrate")
@errors
def project_migrate(
    project_id: int,
    to_version: int | None = None,
    apply: Annotated[bool, typer.Option("--apply", help="Apply the changes shown")] = False,
    actor: str = "",
    db: DbOption = None,
) -> None:
    """Show what a newer definition version changes for a project; apply it with --apply."""
    from workflow.migration import apply_migration, plan_migration

    c = system(db)
    if apply:
        plan = apply_migration(c.engine, project_id, to_version, actor=actor or "pilot")
        typer.echo(plan.describe())
        typer.echo("applied")
    else:
        plan = plan_migration(c.engine, project_id, to_version)
        typer.echo(plan.describe())
        if not plan.blocker:
            typer.echo("run again with --apply to migrate")


# -- records -----------------------------------------------------------------------------------
@milestone_app.command("done")
@errors
def milestone_done(
    project_id: int,
    key: str,
    by: Annotated[str, typer.Option()],
    ref: Annotated[str | None, typer.Option(help="Reference of the deliverable")] = None,
    on: Annotated[str | None, typer.Option(help="Day it was done (default: today)")] = None,
    correct: Annotated[
        bool,
        typer.Option(
            "--correct",
            help="Correct a milestone already recorded done (needs --comment); "
            "the earlier record is kept in its history",
        ),
    ] = False,
    comment: Annotated[str | None, typer.Option(help="Why (required with --correct)")] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Record a milestone done; refused (exit 3) if it already is, unless --correct."""
    system(db, now).records.milestone_done(
        project_id,
        key,
        by=by,
        deliverable_ref=ref,
        on=parse_day(on, "--on"),
        correct=correct,
        comment=comment,
    )
    typer.echo(f"project {project_id}: milestone {key} {'corrected' if correct else 'done'}")


@meeting_app.command("schedule")
@errors
def meeting_schedule(
    project_id: int,
    series: str,
    at: Annotated[str, typer.Option(help="Start, ISO 8601")],
    occurrence: str | None = None,
    location: str = "",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    mid = system(db, now).records.schedule_meeting(
        project_id,
        series,
        parse_instant(at, "--at"),  # type: ignore[arg-type]
        occurrence=occurrence,
        location=location,
    )
    typer.echo(f"meeting {mid} scheduled; invitations queued")


@meeting_app.command("move")
@errors
def meeting_move(
    project_id: int,
    meeting_id: int,
    at: Annotated[str, typer.Option()],
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    system(db, now).records.move_meeting(project_id, meeting_id, parse_instant(at, "--at"))  # type: ignore[arg-type]
    typer.echo(f"meeting {meeting_id} moved; updates queued")


@meeting_app.command("cancel")
@errors
def meeting_cancel(
    project_id: int,
    meeting_id: int,
    reason: Annotated[str, typer.Option("--reason", help="why it is cancelled")] = "",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    system(db, now).records.cancel_meeting(project_id, meeting_id, reason=reason or None)
    typer.echo(f"meeting {meeting_id} cancelled; cancellations queued")


@meeting_app.command("held")
@errors
def meeting_held(
    project_id: int,
    occurrence: str | None = None,
    meeting_id: Annotated[int | None, typer.Option("--id")] = None,
    series: str | None = None,
    on: str | None = None,
    minutes: str | None = None,
    attendee: Annotated[list[str] | None, typer.Option()] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    mid = system(db, now).records.meeting_held(
        project_id,
        meeting_id=meeting_id,
        occurrence=occurrence,
        series=series,
        held_on=parse_day(on, "--on"),
        minutes_ref=minutes,
        attendees=attendee,
    )
    typer.echo(f"meeting {mid} recorded as held")


@partner_app.command("add")
@errors
def partner_add(
    project_id: int,
    organisation: Annotated[str, typer.Option("--org")],
    email: Annotated[str, typer.Option()],
    contact: str = "",
    role: Annotated[list[str] | None, typer.Option()] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    pid = system(db, now).records.add_partner(
        project_id, PartnerIn(organisation, email, contact, tuple(role or ["partner"]))
    )
    typer.echo(f"partner {pid} joined project {project_id}")


@partner_app.command("leave")
@errors
def partner_leave(
    project_id: int,
    partner_id: int,
    on: str | None = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    day = system(db, now).records.partner_leaves(project_id, partner_id, on=parse_day(on, "--on"))
    why = "" if on else " (annual deadline)"
    typer.echo(f"partner {partner_id} leaves project {project_id} on {day}{why}")


@app.command("decision")
@errors
def decision(
    project_id: int,
    key: str,
    by: Annotated[str, typer.Option()],
    text: str = "",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Record a decision (e.g. go_deploiement) taken by the COPIL."""
    system(db, now).records.record_decision(project_id, key, by=by, text=text)
    typer.echo(f"project {project_id}: decision {key} recorded")


@app.command("indicator")
@errors
def indicator(
    project_id: int,
    key: str,
    label: str | None = None,
    kind: Annotated[str | None, typer.Option(help="process, activity or result")] = None,
    planned: float | None = None,
    realised: float | None = None,
    gap: str | None = None,
    corrective: str | None = None,
    db: DbOption = None,
) -> None:
    """Set an indicator's planned or realised value."""
    system(db).records.set_indicator(
        project_id,
        key,
        label=label,
        kind=kind,
        planned=planned,
        realised=realised,
        gap_explanation=gap,
        corrective_measure=corrective,
    )
    typer.echo(f"project {project_id}: indicator {key} saved")


# -- due work ----------------------------------------------------------------------------------
@app.command("tick")
@errors
def tick(
    now: NowOption = None,
    db: DbOption = None,
    commit_future: Annotated[
        bool,
        typer.Option(
            "--commit-future",
            help="With --now in the future: really do the work as of then (else a preview)",
        ),
    ] = False,
) -> None:
    """Run all due work once as of --now (default: the wall clock) and exit.

    A --now in the future only previews (nothing written, nothing sent) unless
    --commit-future is given: work done ahead of time would mark reminders done, send them
    early and schedule retries after that date."""
    c = system(db, now)
    instant = parse_instant(now)
    if instant is not None and instant > SystemClock().now() and not commit_future:
        lines = _preview_tick(c, instant)
        typer.echo(
            f"preview as of {instant.isoformat()} (in the future): nothing was written or sent;"
            " add --commit-future to do it"
        )
    else:
        lines = c.tick().lines()
    for line in lines:
        typer.echo(line)


def _preview_tick(c: Copilote, instant: datetime) -> list[str]:
    """The tick as of ``instant`` run on a copy of the SQLite database, mail recorded only."""
    import sqlite3
    import tempfile

    from notifications import RecordingMailer

    url = c.db.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise InvalidInput(
            "--now",
            f"{instant.isoformat()} is in the future and this database cannot be previewed;"
            " add --commit-future to do the work as of then",
        )
    c.db.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "preview.db"
        source, target = sqlite3.connect(str(url.database)), sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        settings = c.settings.model_copy(update={"database_url": f"sqlite:///{copy}"})
        preview = Copilote(settings, FixedClock(instant), RecordingMailer())
        try:
            return preview.tick(instant).lines()
        finally:
            preview.db.dispose()


@outbox_app.command("retry")
@errors
def outbox_retry(
    failed_since: Annotated[
        str | None,
        typer.Option("--failed-since", help="Only messages that failed on or after this day"),
    ] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Queue the failed messages again (all attempts anew), e.g. after a long mail outage."""
    day = parse_day(failed_since, "--failed-since")
    c = system(db, now)
    since = datetime.combine(day, time(0), tzinfo=PARIS) if day is not None else None
    count = c.outbox.requeue_failed(c.clock.now(), since)
    typer.echo(f"{count} failed message(s) queued again")


@app.command("simulate")
@errors
def simulate(
    definition: str,
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    variant: str | None = None,
) -> None:
    """Print every message a project nobody acts on would produce; sends nothing."""
    from notifications import RecordingMailer

    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if first is None or last is None or last < first:
        raise InvalidInput("--to", "the end must be on or after the start")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(
            datetime.combine(first, datetime.min.time(), tzinfo=PARIS).replace(hour=8)
        )
        settings = Settings(database_url=f"sqlite:///{tmp}/simulate.db")
        mailer = RecordingMailer()
        c = Copilote(settings, clock, mailer)
        d = c.engine.definition(definition)
        variant = variant or (d.variants[0].key if d.variants else None)
        pid = c.engine.create_project(
            NewProject(
                definition_id=d.id,
                title=f"Simulation {d.title}",
                start_date=first,
                variant=variant,
                pilot=PartnerIn(
                    "Pilote", "pilote@example.org", "Pilote du projet", ("pilot", "copil")
                ),
                agency=PartnerIn("Agence", "agence@example.org", "Agence", ("agency",)),
                convention_start=first,
            )
        )
        c.records.add_partner(
            pid,
            PartnerIn(
                "Partenaire A", "partenaire.a@example.org", "Partenaire A", ("partner", "copil")
            ),
            first,
        )
        c.records.add_partner(
            pid,
            PartnerIn("Partenaire B", "partenaire.b@example.org", "Partenaire B", ("partner",)),
            first,
        )
        printed = len(mailer.sent)

        def print_sent(tick: Tick) -> None:
            nonlocal printed
            for m in mailer.sent[printed:]:
                to = ", ".join(r.email for r in m.to)
                typer.echo(f"{tick.day} {tick.paris:%H:%M}  {to:32}  {m.subject}")
            printed = len(mailer.sent)

        c.run_until(last, start=first, ticks=(time(9), time(18)), on_tick=print_sent)
        with read(c.db) as conn:
            phase = detail.project_summaries(c.engine, conn, {pid})[0].phase
        typer.echo(f"{len(mailer.sent)} message(s); phase at the end: {phase}")


@app.command("demo")
@errors
def demo(db: DbOption = None, now: NowOption = None) -> None:
    """Fill an empty database with demo projects from the seeds (coopératives, ACIA, ACESO, Unapei)."""
    _demo(system(db, now))


@app.command("serve")
@errors
def serve(
    db: DbOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Fill an empty database with the demo projects first")
    ] = False,
) -> None:
    """Run the service: web pages and API at COPILOTE_BASE_URL, and the scheduler."""
    configure_logging()
    c = system(db)
    loopback = {c.settings.host, urlsplit(c.settings.base_url).hostname} <= LOOPBACK
    # On this machine only, the public default secret is accepted (a development start).
    c.settings.development = c.settings.development or loopback
    if demo:
        _demo(c)
    typer.echo(
        f"Copilote on http://{c.settings.host}:{c.settings.port} ({c.settings.database_url})"
    )
    c.serve()


DEMO_PASSWORD = "copilote-demo"
DEMO_USERS = [
    ("agence@ars-idf.example", "agency", "Agence régionale de santé"),
    ("pilote@cooperative-paris.example", "pilot", "Pilote coopérative Paris"),
]


def _demo(c: Copilote) -> None:
    """The demo projects (on an empty database only) and the demo sign-ins."""
    from collections import Counter

    from demo import existing_projects, load_demo

    count = existing_projects(c)
    if count:
        typer.echo(
            f"{c.settings.database_url} already holds {count} project(s): the demo only fills an "
            "empty database, no project was added."
        )
    else:
        ids = load_demo(c)
        today = c.engine.today()
        late = Counter(item.project_id for item in overdue_items(c.engine, today))
        typer.echo(
            f"{len(ids)} demo projects created in {c.settings.database_url} (as of {today}):"
        )
        with read(c.db) as conn:
            shown = detail.project_summaries(c.engine, conn, set(ids), limit=None)
        for p in shown:
            typer.echo(
                f"  #{p.id} {p.title} — {p.definition_title} — {p.phase_label} — "
                f"{late[p.id]} overdue item(s)"
            )
        typer.echo("Details: copilote project show ID")
    for email, role, name in DEMO_USERS:
        if c.accounts.authenticate(email, DEMO_PASSWORD) is None:
            with contextlib.suppress(InvalidInput):  # exists with another password: keep it
                c.accounts.create_user(email, DEMO_PASSWORD, role=role, name=name)
    typer.echo(
        "demo sign-in: " + ", ".join(e for e, _, _ in DEMO_USERS) + f" (password {DEMO_PASSWORD})"
    )


# -- users ------------------------------------------------------------------------------------
@user_app.command("add")
@errors
def user_add(
    email: str,
    role: Annotated[str, typer.Option(help="agency or pilot")],
    name: Annotated[str, typer.Option()] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    lang: Annotated[str, typer.Option()] = "fr",
    db: DbOption = None,
) -> None:
    """Create a user who signs in. A pilot sees the projects where they are the pilot partner."""
    who = system(db).accounts.create_user(email, password, role=role, name=name, lang=lang)
    typer.echo(f"user {who.id} {who.email} ({who.role}) created")


@user_app.command("disable")
@errors
def user_disable(email: str, db: DbOption = None) -> None:
    """Disable a user: no sign-in, and their sessions and API tokens are refused at once."""
    c = system(db)
    c.accounts.set_disabled(c.accounts.find(email), True)
    typer.echo(f"user {email} disabled: signed out everywhere, tokens refused")


@user_app.command("enable")
@errors
def user_enable(email: str, db: DbOption = None) -> None:
    """Enable a disabled user again (they sign in anew; their unexpired tokens work again)."""
    c = system(db)
    c.accounts.set_disabled(c.accounts.find(email), False)
    typer.echo(f"user {email} enabled")


@user_app.command("password")
@errors
def user_password(
    email: str,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    db: DbOption = None,
) -> None:
    """Set a user's password; every session of theirs ends."""
    c = system(db)
    c.accounts.set_password(c.accounts.find(email), password)
    typer.echo(f"password of {email} changed: signed out everywhere")


token_app = typer.Typer(help="A user's API tokens: create, list, revoke.", no_args_is_help=True)
user_app.add_typer(token_app, name="token")


@token_app.command("create")
@errors
def user_token_create(
    email: str, name: Annotated[str, typer.Option()] = "", db: DbOption = None
) -> None:
    """Create an API token for a user (shown once; only its hash is kept). It expires after
    COPILOTE_TOKEN_MAX_AGE_DAYS."""
    c = system(db)
    typer.echo(c.accounts.create_token(c.accounts.find(email), name))


@token_app.command("list")
@errors
def user_token_list(email: str, db: DbOption = None) -> None:
    """A user's tokens (never the tokens themselves): id, name, state, dates."""
    c = system(db)
    now = c.clock.now()
    tokens = c.accounts.tokens(c.accounts.find(email))
    if not tokens:
        typer.echo(f"{email} has no API token")
    for t in tokens:
        used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never"
        typer.echo(
            f"{t.id}\t{t.name or '-'}\t{t.state(now)}\tcreated {t.created_at.date()}"
            f"\texpires {t.expires_at.date()}\tlast used {used}"
        )


@token_app.command("revoke")
@errors
def user_token_revoke(email: str, token_id: int, db: DbOption = None) -> None:
    """Revoke one of a user's tokens (its id from `user token list`)."""
    c = system(db)
    c.accounts.revoke_token(c.accounts.find(email), token_id)
    typer.echo(f"token {token_id} of {email} revoked")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
