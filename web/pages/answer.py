"""Partner pages opened from a personal link: the quarterly report and the meeting answer.

A partner has no account: the signed link (:mod:`web.links`) says which project, which
partner and what for. The signature only proves Copilote made the link; every page then
checks the target against the records, so a link made for project A never shows project B,
a partner who has left can no longer use theirs, and a report page only ever shows the
report of the partner the link was made for.

The quarterly report follows seed 001's « tableau de suivi des actions par les acteurs »
(see :mod:`web.report_form`). Sending the same period again *replaces* the report (the form
opens filled with what was sent, so a partner can correct it while the link is valid); the
agency always sees the latest version and its date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.dialects import postgresql, sqlite
from starlette.datastructures import FormData

from notifications.calendar import build_ics
from notifications.days import quarter
from notifications.message import Recipient
from web import i18n
from web.bounds import storable
from web.deps import CopiloteDep, CsrfForm
from web.links import LinkError, LinkTarget
from web.pages.responses import PAGE_RESPONSES
from web.report_form import (
    ANSWERS,
    CONTRIBUTIONS,
    QUESTIONS,
    TEXTS,
    ReportForm,
    action_titles,
)
from web.templating import render
from workflow import tables
from workflow.calendar import in_paris, paris_date
from workflow.database import read
from workflow.definition import Definition, MeetingSeries, ReportSchedule
from workflow.errors import InvalidInput
from workflow.lifecycle import SUSPENDED
from workflow.occasions import quarter_of_period
from workflow.planner import quarter_end
from workflow.progress import closed
from workflow.sweep import resolve_due

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)


PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")
MEETING_ANSWERS = ("yes", "no", "maybe")

# Answer pages carry the personal token in their address: never leak it to another site,
# never keep it in a shared cache, never index it.
_PRIVATE = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


@dataclass
class Opened:
    """A link checked against the records: what the partner may see and answer."""

    link: LinkTarget
    project: Any
    partner: Any
    definition: Definition
    today: date
    closed: bool  # workflow.progress.closed: abandoned or in a terminal phase

    @property
    def closed_reason(self) -> str | None:
        if self.project.phase == SUSPENDED:
            return "Ce projet est suspendu : rien ne peut être transmis pour l'instant."
        if self.closed:
            return "Ce projet est terminé : rien ne peut plus être transmis."
        return None

    def people(self, conn: sa.Connection) -> None:
        """The pilot (name and address, to contact) and the agency of the project."""
        self.pilot, self.agency = contacts(conn, self.project.id, self.today)

    pilot: Any = field(default=None, kw_only=True)
    agency: Any = field(default=None, kw_only=True)


@dataclass
class ReportTarget(Opened):
    schedule: ReportSchedule
    due: date
    draft: Any  # the partner's saved draft for this period, or None
    period: str
    year: int
    quarter: int
    report: Any  # the stored report of this partner for this period, or None
    indicators: list[Any]
    previous_titles: list[str]
    own_actions: list[tuple[str, str]] = field(default_factory=list)  # a fiche-action's key, label
    previous: dict[str, Any] | None = None  # the partner's report of the quarter before

    @property
    def days_late(self) -> int:
        return max(0, (self.today - self.due).days)

    def period_words(self, lang: str) -> str:
        """The quarter as the page says it: "3e trimestre 2026" in French, "Q3 2026" in English
        (the wording table's, as in the emails)."""
        return quarter(self.period, lang, short=lang != "fr")


@dataclass
class MeetingTarget(Opened):
    meeting: Any
    series: MeetingSeries
    attendance: Any  # this partner's stored answer, or None

    @property
    def answerable(self) -> bool:
        m = self.meeting
        return m.status == "planned" and m.starts_at is not None and self.closed_reason is None


def _open(conn: sa.Connection, c: Any, token: str) -> ReportTarget | MeetingTarget:
    link = c.links.read(token)
    today = paris_date(c.clock.now())
    project = conn.execute(
        sa.select(tables.project).where(tables.project.c.id == link.project_id)
    ).one_or_none()
    if project is None:
        raise LinkError("the project it was made for no longer exists")
    partner = conn.execute(
        sa.select(tables.partner).where(
            tables.partner.c.id == link.partner_id, tables.partner.c.project_id == project.id
        )
    ).one_or_none()
    if partner is None:
        raise LinkError("it was not made for a partner of this project")
    if partner.joined_on > today or (partner.left_on is not None and partner.left_on <= today):
        raise LinkError(f"{partner.organisation} is no longer a partner of this project")
    definition = c.engine.definition(project.definition_id, project.definition_version)
    roles = set(partner.roles)
    now = c.clock.now()
    if link.purpose == "report":
        key, _, period = link.detail.partition(":")
        spec = next((r for r in definition.reports if r.key == key), None)
        found = PERIOD.match(period)
        if spec is None or found is None:
            raise LinkError("it names a report this project does not ask for")
        if spec.owed_by not in roles:
            raise LinkError(f"{partner.organisation} does not owe this report")
        due = report_due(definition, spec, period)
        c.links.check_age(link, due, now)
        mine = sa.and_(
            tables.report.c.project_id == project.id,
            tables.report.c.partner_id == partner.id,
            tables.report.c.schedule == key,
        )
        report = conn.execute(
            sa.select(tables.report).where(mine, tables.report.c.period == period)
        ).one_or_none()
        draft = conn.execute(
            sa.select(tables.report_draft).where(
                tables.report_draft.c.project_id == project.id,
                tables.report_draft.c.partner_id == partner.id,
                tables.report_draft.c.schedule == key,
                tables.report_draft.c.period == period,
            )
        ).one_or_none()
        # The actions of the partner's latest earlier report, to start from.
        earlier = conn.execute(
            sa.select(tables.report.c.content)
            .where(mine, tables.report.c.period < period)
            .order_by(tables.report.c.period.desc())
        ).first()
        # Issue 13: a project with fiches-actions asks each partner about their own actions
        # and the indicators of those actions for the report's year.
        own = conn.execute(
            sa.select(
                tables.fiche_action.c.id, tables.fiche_action.c.key, tables.fiche_action.c.label
            )
            .where(
                tables.fiche_action.c.project_id == project.id,
                tables.fiche_action.c.partner_id == partner.id,
            )
            .order_by(tables.fiche_action.c.position, tables.fiche_action.c.id)
        ).all()
        indicators = sa.select(tables.indicator).where(tables.indicator.c.project_id == project.id)
        if own:
            indicators = indicators.where(
                tables.indicator.c.action_id.in_([a.id for a in own]),
                sa.or_(
                    tables.indicator.c.year.is_(None),
                    tables.indicator.c.year == int(found.group(1)),
                ),
            )
        return ReportTarget(
            link,
            project,
            partner,
            definition,
            today,
            closed(c.engine, project),
            schedule=spec,
            due=due,
            draft=draft,
            period=period,
            year=int(found.group(1)),
            quarter=int(found.group(2)),
            report=report,
            indicators=list(conn.execute(indicators.order_by(tables.indicator.c.id))),
            previous_titles=action_titles(earlier.content if earlier else None),
            own_actions=[(a.key, a.label) for a in own],
            previous=dict(earlier.content or {}) if earlier else None,
        )
    if link.purpose == "meeting":
        meeting = None
        if link.detail.isdigit():
            meeting = conn.execute(
                sa.select(tables.meeting).where(
                    tables.meeting.c.id == int(link.detail),
                    tables.meeting.c.project_id == project.id,
                )
            ).one_or_none()
        if meeting is None:
            raise LinkError("it names a meeting this project does not have")
        series = next((s for s in definition.meetings if s.key == meeting.series), None)
        if series is None or not roles & set(series.attendees):
            raise LinkError(f"{partner.organisation} is not invited to this meeting")
        c.links.check_age(link, meeting_day(meeting), now)
        attendance = conn.execute(
            sa.select(tables.attendance).where(
                tables.attendance.c.meeting_id == meeting.id,
                tables.attendance.c.partner_id == partner.id,
            )
        ).one_or_none()
        return MeetingTarget(
            link,
            project,
            partner,
            definition,
            today,
            closed(c.engine, project),
            meeting=meeting,
            series=series,
            attendance=attendance,
        )
    raise LinkError("it is not a link Copilote knows how to answer")


def report_due(definition: Definition, spec: ReportSchedule, period: str) -> date:
    """The due date of ``spec`` for ``period`` (the sweep's rule: the quarter's end plus the
    schedule's delay, moved to a working day when the programme says so)."""
    year, number = quarter_of_period(period)
    return resolve_due(quarter_end(year, number), spec, definition).due


def meeting_day(meeting: Any) -> date | None:
    """The day a meeting's occasion is over: held, or its planned day (Paris)."""
    if meeting.held_on is not None:
        return meeting.held_on  # type: ignore[no-any-return]
    return in_paris(meeting.starts_at).date() if meeting.starts_at is not None else None


def contacts(conn: sa.Connection, project_id: int, today: date) -> tuple[Any, Any]:
    """The project's active pilot and agency partner rows (None when there is none)."""
    rows = conn.execute(
        sa.select(tables.partner)
        .where(tables.partner.c.project_id == project_id)
        .order_by(tables.partner.c.id)
    ).all()
    current = [r for r in rows if r.joined_on <= today and (r.left_on is None or r.left_on > today)]
    pilot = next((r for r in current if "pilot" in r.roles), None)
    agency = next((r for r in current if "agency" in r.roles), None)
    return pilot, agency


def opened(request: Request, c: CopiloteDep, token: str) -> ReportTarget | MeetingTarget:
    with read(c.db) as conn:
        target = _open(conn, c, token)
        target.people(conn)
    # The page speaks the partner's language (as their emails do) unless they chose another.
    request.state.lang = target.partner.lang
    return target


async def form_data(request: Request) -> FormData:
    return await request.form()


Target = Annotated[ReportTarget | MeetingTarget, Depends(opened)]
Posted = Annotated[FormData, Depends(form_data)]


def private_page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A page of a personal link: never cached, indexed, or its address sent elsewhere."""
    response = render(request, name, context, status_code)
    response.headers.update(_PRIVATE)
    return response


def _report_page(
    request: Request, t: ReportTarget, form: ReportForm, status_code: int = 200
) -> Response:
    return private_page(
        request,
        "answer_report.html",
        {
            "t": t,
            "form": form,
            "questions": QUESTIONS,
            "contributions": CONTRIBUTIONS,
            "answers": ANSWERS,
            "texts": TEXTS,
            "action": request.url.path,
        },
        status_code,
    )


def _meeting_page(
    request: Request, t: MeetingTarget, values: dict[str, str], error: str | None = None
) -> Response:
    return private_page(
        request,
        "answer_meeting.html",
        {
            "t": t,
            "values": values,
            "answers": MEETING_ANSWERS,
            "error": error,
            "action": request.url.path,
        },
        422 if error else 200,
    )


@router.get("/answer/{token}")
def answer_page(request: Request, t: Target) -> Response:
    if isinstance(t, ReportTarget):
        if t.draft is not None and (t.report is None or t.draft.saved_at > t.report.submitted_at):
            return _report_page(request, t, ReportForm.from_draft(t.draft.content))
        content = t.report.content if t.report is not None else None
        return _report_page(
            request,
            t,
            ReportForm.start(content, t.previous_titles, t.own_actions, t.previous),
        )
    values = {
        "answer": t.attendance.answer if t.attendance else "",
        "comment": t.attendance.comment if t.attendance else "",
    }
    return _meeting_page(request, t, values)


@router.post("/answer/{token}", dependencies=[CsrfForm])
def answer(request: Request, c: CopiloteDep, t: Target, posted: Posted, token: str) -> Response:
    if t.closed_reason is not None:
        raise InvalidInput("project", t.closed_reason)
    if isinstance(t, ReportTarget):
        form = ReportForm.read(posted, t.indicators)
        if "add_action" in posted:  # no JavaScript: one more empty action row, nothing stored
            form.errors.clear()
            form.add_row()
            return _report_page(request, t, form)
        if "save_draft" in posted:
            blocking = form.draft_errors
            form.errors[:] = blocking
            if blocking:
                return _report_page(request, t, form, 422)
            _save_draft(c, t, form)
            return RedirectResponse(f"/answer/{token}?draft=1", status_code=303)
        if form.errors:
            return _report_page(request, t, form, 422)
        c.records.submit_report(
            t.project.id, t.partner.id, t.schedule.key, t.period, form.content()
        )
        with c.db.begin() as conn:
            conn.execute(sa.delete(tables.report_draft).where(_draft_of(t)))
    else:
        values = {
            "answer": str(posted.get("answer", "")),
            "comment": str(posted.get("comment", "")).strip(),
        }
        if not t.answerable:
            raise InvalidInput("meeting", "this meeting can no longer be answered")
        if values["answer"] not in MEETING_ANSWERS:
            return _meeting_page(request, t, values, "answer")
        if len(values["comment"]) > 2000:
            return _meeting_page(request, t, values, "comment")
        if not storable(values["comment"], lines=True):
            values["comment"] = values["comment"].encode("utf-8", "replace").decode("utf-8")
            return _meeting_page(request, t, values, "comment_characters")
        _save_attendance(c, t, values["answer"], values["comment"])
    return RedirectResponse(f"/answer/{token}/done", status_code=303)


@router.get("/answer/{token}/done")
def answered(request: Request, t: Target, token: str) -> Response:
    if (t.report if isinstance(t, ReportTarget) else t.attendance) is None:
        return RedirectResponse(f"/answer/{token}", status_code=303)  # nothing sent yet
    return private_page(
        request,
        "answer_done.html",
        {
            "t": t,
            "is_report": isinstance(t, ReportTarget),
            "questions": QUESTIONS,
            "contributions": CONTRIBUTIONS,
            "texts": TEXTS,
        },
    )


# -- the invitation in a calendar ---------------------------------------------------------
@router.get("/answer/{token}/meeting.ics")
def meeting_ics(request: Request, c: CopiloteDep, t: Target) -> Response:
    """« Ajouter à mon agenda »: the invitation as an .ics file (the same UID as the emailed
    invitation, so a calendar that has one updates it)."""
    if not isinstance(t, MeetingTarget) or t.meeting.starts_at is None:
        raise LinkError("it is not an invitation to a meeting with a date")
    m = t.meeting
    lang = t.partner.lang if t.partner.lang in i18n.LANGS else "fr"
    start = in_paris(m.starts_at)
    end = in_paris(m.ends_at) if m.ends_at is not None else start
    if end <= start:
        end = start + timedelta(minutes=t.series.duration_minutes or 60)
    pilot = t.pilot
    organizer = Recipient(
        (pilot.contact_name or pilot.organisation) if pilot else t.project.title,
        pilot.email if pilot else f"noreply@{c.settings.mail_domain}",
    )
    ics = build_ics(
        uid=f"meeting-{m.id}@{c.settings.mail_domain}",
        sequence=int(m.sequence),
        method="REQUEST",
        summary=f"{t.definition.meeting_label(m.series, m.occurrence, m.label, lang)} — "
        f"{t.project.title}",
        description=f"{t.definition.label('meeting', t.series.key, lang)} "
        f"({t.definition.title_in(lang)})",
        location=str(m.location or ""),
        starts_at=start,
        ends_at=end,
        organizer=organizer,
        attendees=[Recipient(t.partner.contact_name or t.partner.organisation, t.partner.email)],
        stamp=c.clock.now(),
    )
    response = Response(ics, media_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="invitation.ics"'
    response.headers.update(_PRIVATE)
    return response


def _draft_of(t: ReportTarget) -> Any:
    return sa.and_(
        tables.report_draft.c.project_id == t.project.id,
        tables.report_draft.c.partner_id == t.partner.id,
        tables.report_draft.c.schedule == t.schedule.key,
        tables.report_draft.c.period == t.period,
    )


def _save_draft(c: Any, t: ReportTarget, form: ReportForm) -> None:
    """One draft per link's report: saving again replaces it."""
    insert = postgresql.insert if c.db.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(tables.report_draft).values(
        project_id=t.project.id,
        partner_id=t.partner.id,
        schedule=t.schedule.key,
        period=t.period,
        saved_at=c.clock.now(),
        content=form.draft(),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "partner_id", "schedule", "period"],
        set_={"saved_at": stmt.excluded.saved_at, "content": stmt.excluded.content},
    )
    with c.db.begin() as conn:
        conn.execute(stmt)


def _save_attendance(c: Any, t: MeetingTarget, answer: str, comment: str) -> None:
    """One answer per meeting and partner: a new answer replaces the previous one."""
    insert = postgresql.insert if c.db.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(tables.attendance).values(
        meeting_id=t.meeting.id,
        partner_id=t.partner.id,
        answer=answer,
        comment=comment,
        answered_at=c.clock.now(),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["meeting_id", "partner_id"],
        set_={
            "answer": stmt.excluded.answer,
            "comment": stmt.excluded.comment,
            "answered_at": stmt.excluded.answered_at,
        },
    )
    with c.db.begin() as conn:
        conn.execute(stmt)


i18n.register(
    {
        "Bilan trimestriel": "Quarterly report",
        "Ce formulaire avait expiré : rien n'a été enregistré. Vérifiez-le et envoyez-le de"
        " nouveau.": "This form had expired: nothing was saved. Check it and send it again.",
        "Pilote du projet": "Project pilot",
        "Ordre du jour": "Agenda",
        "Enregistrer le brouillon": "Save the draft",
        "Brouillon enregistré le": "Draft saved on",
        "il n'est pas encore transmis : reprenez-le quand vous voulez avec ce lien.": (
            "it is not sent yet: come back to it with this link whenever you like."
        ),
        "Agence": "Agency",
        "Ajouter à mon agenda": "Add to my calendar",
        "à rendre le": "due on",
        "en retard de": "late by",
        "jour(s)": "day(s)",
        "champ obligatoire": "required field",
        "Les champs marqués d'un astérisque (*) sont obligatoires.": (
            "Fields marked with an asterisk (*) are required."
        ),
        "Projet": "Project",
        "Structure": "Organisation",
        "Période": "Period",
        "Échéance": "Due",
        "Tableau de suivi des actions": "Action follow-up table",
        "Vos actions": "Your actions",
        "Action": "Action",
        "Intitulé de l'action": "Action title",
        "Si non ou en partie : pourquoi ?": "If no or partly: why?",
        "Justifiez (éléments clés)": "Explain (key points)",
        "Ajouter une action": "Add an action",
        "Laissez vide une ligne d'action inutile : elle est ignorée.": (
            "Leave an unused action row empty: it is ignored."
        ),
        "Indicateurs": "Indicators",
        "Indicateur": "Indicator",
        "Type": "Kind",
        "Valeur prévue": "Planned value",
        "Valeur réalisée": "Realised value",
        "Aucun indicateur n'est encore défini pour ce projet.": (
            "No indicator is defined for this project yet."
        ),
        "Freins, leviers et pistes d'amélioration": "Obstacles, levers and improvement ideas",
        "Transmettre le bilan": "Send the report",
        "Le formulaire contient des erreurs : rien n'a été enregistré.": (
            "The form has errors: nothing was saved."
        ),
        "Vous avez déjà transmis ce bilan le": "You already sent this report on",
        "vous pouvez le corriger : la nouvelle version remplacera la précédente.": (
            "you may correct it: the new version will replace the previous one."
        ),
        "Merci !": "Thank you!",
        "Votre bilan a été transmis le": "Your report was sent on",
        "Modifier le bilan": "Edit the report",
        "Réponses transmises": "Answers sent",
        "Invitation": "Invitation",
        "Réunion": "Meeting",
        "Instance": "Body",
        "Quand": "When",
        "Lieu": "Place",
        "non précisé": "not given",
        "Cette réunion est annulée.": "This meeting is cancelled.",
        "Cette réunion a eu lieu.": "This meeting has taken place.",
        "Cette réunion n'a pas encore de date.": "This meeting has no date yet.",
        "Serez-vous présent(e) ?": "Will you attend?",
        "Oui": "Yes",
        "Non": "No",
        "En partie": "Partly",
        "Peut-être": "Maybe",
        "Commentaire (facultatif)": "Comment (optional)",
        "Envoyer ma réponse": "Send my answer",
        "Choisissez une réponse.": "Choose an answer.",
        "Le commentaire est trop long (2000 caractères au plus).": (
            "The comment is too long (2000 characters at most)."
        ),
        "Votre réponse a été enregistrée le": "Your answer was recorded on",
        "Votre réponse": "Your answer",
        "Modifier ma réponse": "Change my answer",
        "processus": "process",
        "activité": "activity",
        "résultat": "result",
        "Les ressources ont été mobilisées comme prévu": "Resources were mobilised as planned",
        "Les groupes cibles ont été atteints comme prévu": "Target groups were reached as planned",
        "Les actions ont été réalisées et sont conformes à la programmation": (
            "The actions were carried out as programmed"
        ),
        "Les objectifs cibles ont été atteints": "The target objectives were reached",
        "Freins identifiés": "Obstacles identified",
        "Leviers identifiés": "Levers identified",
        "Pistes d'amélioration": "Improvement ideas",
        "Décrivez au moins une action.": "Describe at least one action.",
        "Donnez l'intitulé de l'action.": "Give the action's title.",
        "Intitulé trop long (300 caractères au plus).": "Title too long (300 characters at most).",
        "Répondez oui, en partie ou non.": "Answer yes, partly or no.",
        "Dites pourquoi (réponse « non » ou « en partie »).": (
            "Say why (answer « no » or « partly »)."
        ),
        "Texte trop long (5000 caractères au plus).": "Text too long (5000 characters at most).",
        "Caractères non autorisés (caractères de contrôle).": (
            "Characters not allowed (control characters)."
        ),
        "Saisissez un nombre (par exemple 12 ou 3,5).": "Type a number (for example 12 or 3.5).",
        "50 actions au plus.": "50 actions at most.",
        "Ce projet est suspendu : rien ne peut être transmis pour l'instant.": (
            "This project is suspended: nothing can be sent for now."
        ),
        "Ce projet est terminé : rien ne peut plus être transmis.": (
            "This project has ended: nothing can be sent any more."
        ),
        "Est-ce que l'action a contribué à... (facultatif)": (
            "Did the action contribute to... (optional)"
        ),
        "Sans réponse": "No answer",
        "Sur quels aspects ?": "In which respects?",
        "Lesquels ?": "Which ones?",
        "L'action a contribué à améliorer la dynamique de coopération": (
            "The action helped improve the cooperation between the partners"
        ),
        "L'action a contribué à l'amélioration des pratiques": (
            "The action helped improve practices"
        ),
        "L'action a contribué à activer des leviers permettant d'agir sur les ISTS"
        " (intersectorialité, prise en compte des déterminants sociaux, participation des"
        " habitants...)": (
            "The action helped activate levers on social inequalities in health"
            " (cross-sector work, social determinants, residents' participation...)"
        ),
        "L'action a contribué à l'amélioration du parcours de santé des bénéficiaires sur le"
        " territoire": "The action helped improve the beneficiaries' health pathway locally",
        "Répondez oui, en partie ou non (ou laissez sans réponse).": (
            "Answer yes, partly or no (or leave it unanswered)."
        ),
    }
)
