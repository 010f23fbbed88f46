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
from notifications.wording import euros, money, say
from service import LOOPBACK, Copilote, Settings, configure_logging
from web.cpom import annual_csv, annual_xlsx, programme_csv, programme_xlsx
from web.links import LinkError
from web.refusals import how_to_fix, overdue_words, sentence
from web.routing_table import routing_rows
from workflow.budget import required_euros
from workflow.calendar import PARIS
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.conventions import DEFAULT_LABEL, PartyIn, parse_euros
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
from workflow.plan import ActionIn
from workflow.progress import overdue_items
from workflow.read_models import detail
from workflow.read_models.annual import annual_report
from workflow.read_models.conventions import project_conventions
from workflow.read_models.programme_annual import programme_annual_report

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
convention_app = typer.Typer(
    help="Partnership conventions: parties, signatures, renewals, avenants, notice.",
    no_args_is_help=True,
)
app.add_typer(convention_app, name="convention")
user_app = typer.Typer(
    help="Users who sign in (agency, pilots) and their API tokens.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
outbox_app = typer.Typer(help="The outbox: messages waiting to be sent.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
document_app = typer.Typer(help="Documents attached to a project.", no_args_is_help=True)
app.add_typer(document_app, name="document")
objective_app = typer.Typer(
    help="Objectives: general, specific, operational.", no_args_is_help=True
)
app.add_typer(objective_app, name="objective")
action_app = typer.Typer(help="Fiches-actions serving the objectives.", no_args_is_help=True)
app.add_typer(action_app, name="action")
budget_app = typer.Typer(help="The budget per year and its co-financing.", no_args_is_help=True)
app.add_typer(budget_app, name="budget")
report_app = typer.Typer(help="Reports: the annual CPOM report.", no_args_is_help=True)
app.add_typer(report_app, name="report")

F = TypeVar("F", bound=Callable[..., Any])
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: COPILOTE_DATABASE_URL or sqlite:///copilote.db)"
    ),
]
ByOption = Annotated[str, typer.Option(help="Who records it (in the history)")]
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
        "upload_deliverable": f"copilote document attach {project_id} FILE --by NAME"
        f" --to milestone:{unmet.subject}",
        "record_objectives": f"copilote objective set {project_id} KEY --level general --label "
        f'"..." ; copilote action set {project_id} KEY --objective KEY --label "..."',
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


def required_day(value: str, field: str) -> date:
    day = parse_day(value, field)
    if day is None:
        raise InvalidInput(field, "a date is required (YYYY-MM-DD)")
    return day


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
    lang: Annotated[
        str, typer.Option("--lang", help="fr or en (the routing table's words)")
    ] = "fr",
    db: DbOption = None,
) -> None:
    """Show a lifecycle: phases, steps and their conditions, milestones, meetings, and who
    receives each kind of message (the routing table)."""
    d = system(db).engine.definition(definition_id, version)
    if format == "mermaid":
        typer.echo(mermaid(d))
        return
    if format != "text":
        raise InvalidInput("--format", "use text or mermaid")
    if lang not in ("fr", "en"):
        raise InvalidInput("--lang", "use fr or en")
    typer.echo(f"{d.title_in(lang)} ({d.id} v{d.version})")
    for p in d.phases:
        label = d.phase_label(p.key, lang)
        typer.echo(f"  phase {p.key}: {label}{' (terminal)' if p.key in d.terminal else ''}")
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
                    f"    milestone {m.key}: {d.label('milestone', m.key, lang)}, "
                    f"{d.role_label(m.responsible, lang)}, {m.deadline.describe()}"
                )
    for s in d.meetings:
        what = (
            s.cadence.describe()
            if s.cadence
            else ", ".join(d.label("meeting", o.key, lang) for o in s.occurrences)
        )
        typer.echo(f"  meetings {s.key}: {d.label('meeting', s.key, lang)} ({what})")
    _print_routing(d, lang)


def _print_routing(d: Definition, lang: str) -> None:
    """The routing table: each kind of message and who receives it, in words."""
    typer.echo(f"  {say('routing.title', lang)}:")
    rows = routing_rows(d, lang)
    width = max(len(row.label) for row in rows)
    for row in rows:
        note = f" ({row.note})" if row.note else ""
        chosen = f" – {say('routing.overridden', lang)}" if row.overridden else ""
        typer.echo(f"    {row.label:<{width}}  → {', '.join(row.audience)}{note}{chosen}")


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
    instrument = say(f"convention.instrument.{p.funding_instrument or 'unknown'}", "fr")
    typer.echo(f"  funding: {amount} -> {instrument}")
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


# -- documents ---------------------------------------------------------------------------------
@document_app.command("attach")
@errors
def document_attach(
    project_id: int,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    by: Annotated[str, typer.Option(help="Who files it (shown with the version)")],
    to: Annotated[
        str,
        typer.Option(
            help="What it is attached to: project (the documents space), convention, "
            "milestone:KEY, minutes:MEETING_ID or attendance:MEETING_ID"
        ),
    ] = "project",
    document: Annotated[
        int | None, typer.Option(help="Add a version to this document (its id)")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title (default: the file name)")] = None,
    shared: Annotated[
        bool | None, typer.Option("--shared/--not-shared", help="Shown to partners or not")
    ] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Attach a file (checked as on the pages: type from the content, size limit); attaching
    the minutes of a held meeting emails its attendees a link to them."""
    attached_to, _, subject = to.partition(":")
    with file.open("rb") as handle:
        attached = system(db, now).documents.attach(
            project_id,
            handle,
            file.name,
            by=by,
            attached_to=attached_to,
            subject=subject,
            document_id=document,
            title=title,
            shared=shared,
        )
    typer.echo(
        f"project {project_id}: document {attached.document_id} version {attached.number}"
        f" ({attached.checked.filename}, {attached.checked.media_type},"
        f" {attached.checked.size} bytes{'' if attached.stored else ', content already stored'})"
    )


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
    reason: Annotated[str | None, typer.Option(help="why (shown in the CPOM report)")] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    system(db, now).records.cancel_meeting(project_id, meeting_id, reason)
    typer.echo(f"meeting {meeting_id} cancelled; cancellations queued")


@meeting_app.command("note")
@errors
def meeting_note(
    project_id: int,
    meeting_id: int,
    by: ByOption,
    action: Annotated[str | None, typer.Option(help="the fiche-action it serves")] = None,
    reason: Annotated[str | None, typer.Option(help="why it was cancelled")] = None,
    gap: str | None = None,
    corrective: str | None = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Tie a meeting to its action, or state its cancellation reason, gap or corrective measure."""
    system(db, now).records.plan.meeting_note(
        project_id,
        meeting_id,
        action=action,
        cancel_reason=reason,
        gap_explanation=gap,
        corrective_measure=corrective,
        by=by,
    )
    typer.echo(f"meeting {meeting_id} noted")


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


# -- conventions ------------------------------------------------------------------------------
PartyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--party", help="PARTNER_ID=AMOUNT in euros (e.g. 12=22999,50); repeat for each party"
    ),
]


def _parties(values: list[str] | None) -> dict[int, int | None]:
    """``--party 12=22999,50`` options as {partner id: cents}."""
    parties: dict[int, int | None] = {}
    for i, value in enumerate(values or []):
        key, sep, amount = value.partition("=")
        if not key.strip().isdigit():
            raise InvalidInput(
                f"--party[{i}]", f"{value!r}: write PARTNER_ID=AMOUNT (e.g. 12=23000)"
            )
        parties[int(key)] = parse_euros(f"--party[{i}]", amount) if sep else None
    return parties


@convention_app.command("create")
@errors
def convention_create(
    project_id: int,
    by: Annotated[str, typer.Option(help="Who records it (in the history)")],
    party: PartyOption = None,
    label: str = DEFAULT_LABEL,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """A convention to be signed by its parties; it takes effect when the last one signs."""
    parties = [PartyIn(pid, cents) for pid, cents in _parties(party).items()]
    cid = system(db, now).conventions.create(project_id, parties, by=by, label=label)
    typer.echo(f"convention {cid} recorded for project {project_id}, awaiting signatures")


@convention_app.command("sign")
@errors
def convention_sign(
    convention_id: int,
    partner_id: int,
    on: Annotated[str, typer.Option(help="Signature date YYYY-MM-DD")],
    by: Annotated[str, typer.Option()],
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    day = required_day(on, "--on")
    effective = system(db, now).conventions.sign(convention_id, partner_id, on=day, by=by)
    typer.echo(
        f"convention {convention_id}: partner {partner_id} signed on {day}"
        + (f"; in force from {effective}" if effective else "; other signatures awaited")
    )


@convention_app.command("renew")
@errors
def convention_renew(
    convention_id: int,
    by: Annotated[str, typer.Option()],
    party: PartyOption = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Express renewal for one more period, with new amounts for the parties given."""
    ends = system(db, now).conventions.renew(convention_id, by=by, amounts=_parties(party))
    typer.echo(f"convention {convention_id} renewed until {ends}")


@convention_app.command("amend")
@errors
def convention_amend(
    convention_id: int,
    on: Annotated[str, typer.Option(help="Date the avenant takes effect YYYY-MM-DD")],
    object: Annotated[str, typer.Option("--object", help="What the avenant changes")],
    by: Annotated[str, typer.Option()],
    party: PartyOption = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    day = required_day(on, "--on")
    c = system(db, now)
    c.conventions.amend(convention_id, on=day, object=object, amounts=_parties(party), by=by)
    typer.echo(f"convention {convention_id}: avenant from {day} recorded")


@convention_app.command("notice")
@errors
def convention_notice(
    convention_id: int,
    partner_id: int,
    received: Annotated[str, typer.Option(help="Date the letter was received YYYY-MM-DD")],
    by: Annotated[str, typer.Option()],
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """A party terminates: it leaves one notice period after its letter is received."""
    day = required_day(received, "--received")
    leaves = system(db, now).conventions.terminate(
        convention_id, partner_id, received_on=day, by=by
    )
    typer.echo(f"convention {convention_id}: partner {partner_id} leaves on {leaves}")


@convention_app.command("list")
@errors
def convention_list(
    project_id: int,
    on: Annotated[str | None, typer.Option(help="Amounts in force on this date")] = None,
    lang: str = "fr",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """The project's conventions: status, parties, amounts in force, renewals and avenants."""
    c = system(db, now)
    with read(c.db) as conn:
        view = project_conventions(c.engine, conn, project_id, on=parse_day(on, "--on"))
    if view.funding_year is not None:
        n, m = view.funding_year
        typer.echo(say("funding.year", lang, n=n, m=m))
    if not view.conventions:
        typer.echo(f"project {project_id}: no convention")
    for cv in view.conventions:
        period = f"{cv.effective_on} – {cv.ends_on}" if cv.effective_on else "-"
        status = say(f"convention.status.{cv.status}", lang)
        typer.echo(f"convention {cv.id}: {cv.label} ({status}) {period}")
        for p in cv.parties:
            kind = say(f"convention.instrument.{p.instrument or 'unknown'}", lang)
            signed = f"signed {p.signed_on}" if p.signed_on else "not signed"
            leaves = f", leaves {p.leaves_on}" if p.leaves_on else ""
            typer.echo(
                f"  {p.partner_id} {p.organisation}: {euros(p.amount_cents, lang)} ({kind}),"
                f" {signed}{leaves}"
            )
        for ch in cv.changes:
            moved = ", ".join(
                f"{a.organisation} {euros(a.before_cents, lang)} -> {euros(a.after_cents, lang)}"
                for a in ch.amounts
            )
            typer.echo(
                f"  {ch.effective_on} {say(f'convention.change.{ch.kind}', lang)}"
                f"{' ' + ch.object if ch.object else ''}{': ' + moved if moved else ''}"
                f" ({ch.recorded_by})"
            )


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
    by: ByOption,
    label: str | None = None,
    kind: Annotated[str | None, typer.Option(help="process, activity or result")] = None,
    planned: float | None = None,
    realised: float | None = None,
    gap: str | None = None,
    corrective: str | None = None,
    action: Annotated[str | None, typer.Option(help="the fiche-action it belongs to")] = None,
    year: Annotated[int | None, typer.Option(help="the year its target is for")] = None,
    unit: str | None = None,
    source: str | None = None,
    method: str | None = None,
    corrective_cpom: Annotated[
        str | None, typer.Option(help="measure submitted for the end of the CPOM's 3rd year")
    ] = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Set an indicator: its action, year, target (planned), realised value, unit, source and
    method, the gap's explanation and the corrective measures."""
    system(db, now).records.set_indicator(
        project_id,
        key,
        label=label,
        kind=kind,
        planned=planned,
        realised=realised,
        gap_explanation=gap,
        corrective_measure=corrective,
        action=action,
        year=year,
        unit=unit,
        source=source,
        method=method,
        corrective_measure_cpom=corrective_cpom,
        by=by,
    )
    typer.echo(f"project {project_id}: indicator {key} saved")


# -- objectives, fiches-actions, budget, the CPOM report -----------------------------------------
@objective_app.command("set")
@errors
def objective_set(
    project_id: int,
    key: str,
    by: ByOption,
    label: str | None = None,
    level: Annotated[str | None, typer.Option(help="general, specific or operational")] = None,
    parent: Annotated[str | None, typer.Option(help="the objective it sits under")] = None,
    position: int | None = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Create an objective or change its label, parent or position."""
    system(db, now).records.plan.set_objective(
        project_id, key, label=label, level=level, parent=parent, position=position, by=by
    )
    typer.echo(f"project {project_id}: objective {key} saved")


@action_app.command("set")
@errors
def action_set(
    project_id: int,
    key: str,
    by: ByOption,
    objective: Annotated[str | None, typer.Option(help="the objective it serves")] = None,
    label: str | None = None,
    partner: Annotated[int | None, typer.Option(help="the responsible partner's id")] = None,
    start: str | None = None,
    end: str | None = None,
    public: Annotated[str | None, typer.Option(help="the target public")] = None,
    etp: Annotated[float | None, typer.Option(help="staff time, in full-time equivalents")] = None,
    budget: Annotated[str | None, typer.Option(help="in euros, e.g. 12 500,00")] = None,
    series: Annotated[str | None, typer.Option(help="the meeting series it is made of")] = None,
    planned: Annotated[
        str | None, typer.Option(help="the planned measure (« 3 réunions »)")
    ] = None,
    realised: str | None = None,
    gap: str | None = None,
    corrective: str | None = None,
    corrective_cpom: str | None = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Create a fiche-action or change the fields given."""
    system(db, now).records.plan.set_action(
        project_id,
        key,
        ActionIn(
            objective=objective,
            label=label,
            partner_id=partner,
            starts_on=parse_day(start, "--start"),
            ends_on=parse_day(end, "--end"),
            target_public=public,
            etp=etp,
            budget_cents=None if budget is None else required_euros(budget, "--budget"),
            series=series,
            planned=planned,
            realised=realised,
            gap_explanation=gap,
            corrective_measure=corrective,
            corrective_measure_cpom=corrective_cpom,
        ),
        by=by,
    )
    typer.echo(f"project {project_id}: action {key} saved")


def _euros_option(value: str | None, field: str) -> int | None:
    return None if value is None else required_euros(value, field)


@budget_app.command("set")
@errors
def budget_set(
    project_id: int,
    by: ByOption,
    line: Annotated[int | None, typer.Option(help="the line to change (none: a new line)")] = None,
    year: int | None = None,
    label: str | None = None,
    objective: Annotated[str | None, typer.Option(help="the general objective funded")] = None,
    planned: Annotated[str | None, typer.Option(help="in euros, e.g. 31 419,35")] = None,
    spent: str | None = None,
    forecast: str | None = None,
    comment: str | None = None,
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Add a budget line of a year, or change a line's amounts or comment."""
    line_id = system(db, now).records.budget.set_budget_line(
        project_id,
        line,
        year=year,
        label=label,
        objective=objective,
        planned_cents=_euros_option(planned, "--planned"),
        spent_cents=_euros_option(spent, "--spent"),
        forecast_cents=_euros_option(forecast, "--forecast"),
        comment=comment,
        by=by,
    )
    typer.echo(f"project {project_id}: budget line {line_id} saved")


@budget_app.command("share")
@errors
def budget_share(
    project_id: int,
    by: ByOption,
    year: Annotated[int, typer.Option()],
    funder: Annotated[str, typer.Option()],
    share: Annotated[float, typer.Option(help="percent of the year's budget, e.g. 49")],
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """A co-funder's share of a year (0 removes it)."""
    system(db, now).records.budget.set_funding_share(
        project_id, year, funder, round(share * 100), by=by
    )
    typer.echo(f"project {project_id}: {funder} funds {share:g} % of {year}")


@budget_app.command("list")
@errors
def budget_list(
    project_id: int, year: int | None = None, db: DbOption = None, now: NowOption = None
) -> None:
    """The year's lines with planned, spent, forecast, the gap and the comment, and totals."""
    report = annual_report(system(db, now).engine, project_id, year)
    for b in [*report.budget, report.budget_total]:
        typer.echo(
            f"{b.id or '':>4}  {b.label[:40]:<40}  {money(b.planned_cents)} | "
            f"{money(b.spent_cents)} | {money(b.forecast_cents)} | {money(b.variance_cents)}"
            + (f"  ({b.comment})" if b.comment else "")
        )


@report_app.command("annual")
@errors
def report_annual(
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write")],
    project_id: Annotated[int | None, typer.Argument(help="the project")] = None,
    programme: Annotated[
        str | None, typer.Option("--programme", help="every project of this programme instead")
    ] = None,
    year: int | None = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="take the report as it stood that day")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """The annual CPOM report (seed 000's form) as XLSX or CSV: a project's, or with
    --programme every project's of a programme, a project column in front."""
    if format not in ("xlsx", "csv"):
        raise InvalidInput("--format", f"{format!r} is not xlsx or csv")
    engine = system(db, now).engine
    day = parse_day(as_of, "--as-of")
    if project_id is not None and programme is None:
        report = annual_report(engine, project_id, year, day)
        output.write_bytes(annual_xlsx(report) if format == "xlsx" else annual_csv(report))
        typer.echo(
            f"project {project_id}: annual report {report.year} as of {report.as_of} "
            f"written to {output}"
        )
        return
    if programme is None or project_id is not None:
        raise InvalidInput("--programme", "give a project id or --programme, not both")
    whole = programme_annual_report(engine, programme, year, day)
    output.write_bytes(programme_xlsx(whole) if format == "xlsx" else programme_csv(whole))
    typer.echo(
        f"programme {programme}: annual report {whole.year} as of {whole.as_of} of "
        f"{len(whole.reports)} project(s) written to {output}"
    )


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
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help="idle: nobody acts; diligent: every party does its part on the day it is due",
        ),
    ] = "idle",
    partners: Annotated[int, typer.Option("--partners", help="founding partners (1-26)")] = 5,
) -> None:
    """Print every message a simulated project would produce, then how many each person
    received each month; sends nothing."""
    from notifications import RecordingMailer
    from workflow.scenario import SCENARIOS, monthly_counts, simulated_project
    from workflow.scenario import scenario as acting

    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if first is None or last is None or last < first:
        raise InvalidInput("--to", "the end must be on or after the start")
    if scenario not in SCENARIOS:
        raise InvalidInput("--scenario", f"use {' or '.join(SCENARIOS)}")
    if not 1 <= partners <= 26:
        raise InvalidInput("--partners", "between 1 and 26 founding partners")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(
            datetime.combine(first, datetime.min.time(), tzinfo=PARIS).replace(hour=8)
        )
        settings = Settings(database_url=f"sqlite:///{tmp}/simulate.db")
        mailer = RecordingMailer()
        c = Copilote(settings, clock, mailer)
        pid = simulated_project(
            c.engine, c.records, definition, first, partners=partners, variant=variant
        )
        printed = len(mailer.sent)
        sent: list[tuple[str, date]] = []

        def print_sent(tick: Tick) -> None:
            nonlocal printed
            for m in mailer.sent[printed:]:
                to = ", ".join(r.email for r in m.to)
                sent.extend((r.email, tick.day) for r in m.to)
                typer.echo(f"{tick.day} {tick.paris:%H:%M}  {to:32}  {m.subject}")
            printed = len(mailer.sent)

        c.run_until(
            last,
            start=first,
            ticks=(time(9), time(18)),
            act=acting(scenario, c.engine, c.records, pid),
            on_tick=print_sent,
        )
        with read(c.db) as conn:
            phase = detail.project_summaries(c.engine, conn, {pid})[0].phase
        typer.echo(f"{len(mailer.sent)} message(s); phase at the end: {phase}")
        _print_monthly(monthly_counts(sent, first, last))


def _print_monthly(table: Any) -> None:
    """Messages per person per month, with each person's monthly average and peak."""
    months = [m[2:].replace("-", "/") for m in table.months]  # 26/05
    width = max([len(p) for p in table.people] + [len("person")])
    typer.echo("")
    typer.echo("messages per person per month")
    typer.echo(f"{'person':<{width}}  " + " ".join(f"{m:>5}" for m in months) + "  average  peak")
    for person in table.people:
        cells = " ".join(f"{n:>5}" for n in table.row(person))
        typer.echo(
            f"{person:<{width}}  {cells}  {table.average(person):>7.1f}  {table.peak(person):>4}"
        )


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
