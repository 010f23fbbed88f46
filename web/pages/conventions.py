"""A project's conventions page: the conventions with their parties, amounts in force, the
23,000 EUR instrument of each party, renewals and avenants, and "année N sur M"; the forms
that create one, record a signature, an express renewal, an avenant or a party's notice.

Everyone who may read the project sees the page; its pilots see the forms, the agency the
renewal form (it signs the conventions and renews them, seed 001); every POST checks again. A refused form
comes back with status 422, what was typed kept, and the error in French next to the form
(English with ``?lang=en``); a recorded one redirects back with a confirmation.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from notifications.wording import euros, say
from web import i18n
from web.bounds import PageId, form_day, form_id, form_line, form_text
from web.csrf import new_form_token
from web.deps import CopiloteDep, CsrfForm, PageUser
from web.forms import once
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow.conditions import active_partners
from workflow.conventions import DEFAULT_LABEL, PartyIn, parse_euros
from workflow.database import read
from workflow.errors import InvalidInput, NotFound
from workflow.read_models.conventions import project_conventions

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

ACTIONS = ("create", "sign", "renew", "amend", "notice")

# What a refused field means, per form, in French (the engine's own sentences are English,
# for logs and the API): the page names the field and says what to do.
_AMOUNT = "saisissez un montant en euros, positif ou nul (par exemple 22 999,50)."
_REASONS: dict[tuple[str, str], str] = {
    ("create", "label"): "indiquez l'intitulé de la convention.",
    ("create", "parties"): "cochez au moins un partenaire signataire.",
    ("create", "partner_id"): "ce partenaire n'est pas (ou plus) partenaire du projet.",
    ("sign", "on"): "la date de signature est requise et ne peut pas être dans le futur.",
    ("sign", "partner_id"): "cette partie a déjà signé, ou n'est pas partie à la convention.",
    ("renew", "convention"): (
        "la convention doit d'abord être signée par toutes les parties, et le programme "
        "doit prévoir un renouvellement exprès."
    ),
    ("renew", "on"): (
        "la convention est caduque depuis son échéance : enregistrez une nouvelle convention."
    ),
    ("amend", "on"): (
        "la date de l'avenant doit être comprise entre la prise d'effet de la convention et "
        "son échéance."
    ),
    ("amend", "object"): "indiquez l'objet de l'avenant.",
    ("renew", "confirm"): "confirmez en cochant la case.",
    ("notice", "confirm"): "confirmez en cochant la case.",
    ("notice", "received_on"): (
        "la date de réception est requise ; elle ne peut être ni dans le futur ni avant la "
        "prise d'effet de la convention."
    ),
    ("notice", "partner_id"): (
        "cette partie a déjà donné son préavis, ou n'est pas partie à la convention."
    ),
}
_LABELS = {
    "label": "Intitulé",
    "parties": "Parties",
    "partner_id": "Partie",
    "on": "Date",
    "received_on": "Date de réception",
    "object": "Objet",
    "convention": "Convention",
    "project": "Projet",
    "confirm": "Confirmation",
}
_DONE = {
    "create": "Convention enregistrée : elle prendra effet à la dernière signature.",
    "sign": "Signature enregistrée.",
    "renew": "Renouvellement exprès enregistré.",
    "amend": "Avenant enregistré.",
    "notice": "Préavis enregistré : la partie quittera la convention au terme du préavis.",
}


def _field_error(action: str, error: InvalidInput, names: dict[int, str]) -> dict[str, str]:
    """The refused field and what to do, in French (translated for English readers)."""
    field = error.field
    base = field.split("[")[0].split(".")[0]
    if field.endswith(".amount") or base in ("amount", "amounts"):
        who = field.rsplit(".", 1)[-1] if base in ("amount", "amounts") else ""
        name = names.get(int(who), "") if who.isdigit() else ""
        return {"field": field, "label": f"Montant{' — ' + name if name else ''}", "text": _AMOUNT}
    key = "partner_id" if base == "parties" and field != "parties" else base
    reason = _REASONS.get((action, key)) or _REASONS.get((action, base))
    if reason is None:
        reason = "valeur refusée."
    return {"field": field, "label": _LABELS.get(key, field), "text": reason}


def _check_renew(c: Any, user: Any, project_id: int) -> None:
    """The project's pilots record everything about its conventions; the agency, which
    signs them, also records their express renewal (seed 001)."""
    if not user.is_agency:
        c.accounts.check_act(user, project_id)


def _actor(user: Any) -> str:
    return str(user.name or user.email)


def show(
    request: Request,
    c: Any,
    user: Any,
    project_id: int,
    *,
    error: dict[str, str] | None = None,
    action: str | None = None,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    c.accounts.check_read(user, project_id)
    lang = i18n.language(request)
    with read(c.db) as conn:
        project = c.engine.project_row(conn, project_id)
        view = project_conventions(c.engine, conn, project_id)
        partners = active_partners(conn, project_id, view.today)
    done = request.query_params.get("done", "")
    year = view.funding_year
    return render(
        request,
        "conventions/page.html",
        {
            "project": project,
            "view": view,
            "partners": partners,
            "can_act": project_id in c.accounts.piloted(user),
            "can_renew": bool(user.is_agency) or project_id in c.accounts.piloted(user),
            "error": error,
            "action": action,
            "typed": typed or {},
            "done": _DONE.get(done),
            "euros": lambda cents: euros(cents, lang),
            "say": lambda key, **kw: say(key, lang, **kw),
            "funding_year": say("funding.year", lang, n=year[0], m=year[1]) if year else None,
            "default_label": DEFAULT_LABEL,
            "today_iso": view.today.isoformat(),
            "form_token": new_form_token(),
        },
        status_code=status_code,
    )


def _names(c: Any, project_id: int) -> dict[int, str]:
    with read(c.db) as conn:
        return {p.id: p.organisation for p in active_partners(conn, project_id, c.engine.today())}


def _refused(
    request: Request,
    c: Any,
    user: Any,
    project_id: int,
    action: str,
    error: InvalidInput,
    typed: dict[str, Any],
) -> Response:
    return show(
        request,
        c,
        user,
        project_id,
        error=_field_error(action, error, _names(c, project_id)),
        action=action,
        typed=typed,
        status_code=422,
    )


def _back(project_id: int, action: str) -> str:
    """Back to the page, at the form's section; the confirmation is the flash banner."""
    return f"/projects/{project_id}/conventions#{_ANCHORS.get(action, 'conventions')}"


_ANCHORS = {"create": "nouvelle-titre"}


def _token(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _convention_of(c: Any, project_id: int, convention: str) -> int:
    convention_id = form_id(convention, "convention")
    if convention_id is None or c.conventions.project_of(convention_id) != project_id:
        raise NotFound("convention", convention[:20])
    return convention_id


def _amounts(form: Any, prefix: str) -> dict[int, int | None]:
    """``amount_<partner id>`` fields filled in, as {partner id: cents}."""
    amounts: dict[int, int | None] = {}
    for key, value in form.multi_items():
        if key.startswith(prefix) and isinstance(value, str) and value.strip():
            partner_id = form_id(key.removeprefix(prefix), "partner_id")
            if partner_id is not None:
                amounts[partner_id] = parse_euros(f"amounts.{partner_id}", value)
    return amounts


def _required_day(value: str, field: str) -> date:
    day = form_day(value, field)
    if day is None:
        raise InvalidInput(field, "a date is required")
    return day


@router.get("/projects/{project_id}/conventions")
def conventions_page(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep
) -> Response:
    return show(request, c, user, project_id)


@router.post("/projects/{project_id}/conventions", dependencies=[CsrfForm])
async def create_convention(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep
) -> Response:
    c.accounts.check_act(user, project_id)
    form = await request.form()
    form_token = form.get("form_token")
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str)}

    def act() -> str | Response:
        try:
            label = form_line(str(form.get("label", "")), "label") or DEFAULT_LABEL
            chosen = [
                pid
                for v in form.getlist("party")
                if isinstance(v, str) and (pid := form_id(v, "party"))
            ]
            amounts = _amounts(form, "amount_")
            parties = [PartyIn(pid, amounts.get(pid)) for pid in chosen]
            c.conventions.create(project_id, parties, by=_actor(user), label=label)
        except InvalidInput as error:
            return _refused(request, c, user, project_id, "create", error, typed)
        return _DONE["create"]

    return once(request, c, user, _token(form_token), _back(project_id, "create"), act)


@router.post("/projects/{project_id}/conventions/sign", dependencies=[CsrfForm])
def sign_convention(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    convention: Annotated[str, Form()],
    party: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)
    convention_id = _convention_of(c, project_id, convention)

    def act() -> str | Response:
        try:
            partner_id = form_id(party, "partner_id") or 0
            c.conventions.sign(
                convention_id, partner_id, on=_required_day(on, "on"), by=_actor(user)
            )
        except InvalidInput as error:
            typed = {"convention": convention, "party": party, "on": on}
            return _refused(request, c, user, project_id, "sign", error, typed)
        return _DONE["sign"]

    return once(request, c, user, _token(form_token), _back(project_id, "sign"), act)


@router.post("/projects/{project_id}/conventions/renew", dependencies=[CsrfForm])
async def renew_convention(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep
) -> Response:
    _check_renew(c, user, project_id)
    form = await request.form()
    form_token = form.get("form_token")
    convention_id = _convention_of(c, project_id, str(form.get("convention", "")))
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str)}

    def act() -> str | Response:
        try:
            if form.get("confirm") != "yes":
                raise InvalidInput("confirm", "confirm the renewal")
            amounts = _amounts(form, "renew_")
            c.conventions.renew(convention_id, by=_actor(user), amounts=amounts)
        except InvalidInput as error:
            return _refused(request, c, user, project_id, "renew", error, typed)
        return _DONE["renew"]

    return once(request, c, user, _token(form_token), _back(project_id, "renew"), act)


@router.post("/projects/{project_id}/conventions/amend", dependencies=[CsrfForm])
async def amend_convention(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep
) -> Response:
    c.accounts.check_act(user, project_id)
    form = await request.form()
    form_token = form.get("form_token")
    convention_id = _convention_of(c, project_id, str(form.get("convention", "")))
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str)}

    def act() -> str | Response:
        try:
            on = _required_day(str(form.get("on", "")), "on")
            text = form_text(str(form.get("object", "")), "object")
            amounts = _amounts(form, "avenant_")
            c.conventions.amend(convention_id, on=on, object=text, amounts=amounts, by=_actor(user))
        except InvalidInput as error:
            return _refused(request, c, user, project_id, "amend", error, typed)
        return _DONE["amend"]

    return once(request, c, user, _token(form_token), _back(project_id, "amend"), act)


@router.post("/projects/{project_id}/conventions/notice", dependencies=[CsrfForm])
def give_notice(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    convention: Annotated[str, Form()],
    party: Annotated[str, Form()] = "",
    received_on: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)
    convention_id = _convention_of(c, project_id, convention)

    def act() -> str | Response:
        try:
            if confirm != "yes":
                raise InvalidInput("confirm", "confirm the notice")
            partner_id = form_id(party, "partner_id") or 0
            received = _required_day(received_on, "received_on")
            c.conventions.terminate(
                convention_id, partner_id, received_on=received, by=_actor(user)
            )
        except InvalidInput as error:
            typed = {"convention": convention, "party": party, "received_on": received_on}
            return _refused(request, c, user, project_id, "notice", error, typed)
        return _DONE["notice"]

    return once(request, c, user, _token(form_token), _back(project_id, "notice"), act)


i18n.register(
    {
        "Conventions": "Conventions",
        "Conventions de partenariat": "Partnership conventions",
        "Voir les conventions": "See the conventions",
        "Retour au projet": "Back to the project",
        "Aucune convention.": "No convention.",
        "Statut": "Status",
        "Prise d'effet": "Takes effect",
        "Échéance": "Ends",
        "Partie": "Party",
        "Montant en vigueur": "Amount in force",
        "Instrument": "Instrument",
        "Signée le": "Signed on",
        "Préavis reçu le": "Notice received on",
        "Départ le": "Leaves on",
        "Renouvellements et avenants": "Renewals and amendments",
        "Objet": "Object",
        "Montants": "Amounts",
        "Enregistré par": "Recorded by",
        "Nouvelle convention": "New convention",
        "Intitulé": "Title",
        "Partenaires signataires et montants accordés": "Signing partners and amounts granted",
        "Enregistrer la convention": "Record the convention",
        "Enregistrer une signature": "Record a signature",
        "Date de signature": "Signature date",
        "Renouvellement exprès": "Express renewal",
        "Nouveaux montants (laisser vide : inchangé)": "New amounts (empty: unchanged)",
        "Je confirme le renouvellement pour une nouvelle période.": (
            "I confirm the renewal for a new period."
        ),
        "Renouveler": "Renew",
        "Avenant": "Amendment (avenant)",
        "Date d'effet": "Effective date",
        "Enregistrer l'avenant": "Record the amendment",
        "Préavis de résiliation": "Notice of termination",
        "Date de réception du courrier": "Date the letter was received",
        "Je confirme : la partie quittera la convention un mois après réception.": (
            "I confirm: the party leaves the convention one month after receipt."
        ),
        "Enregistrer le préavis": "Record the notice",
        "Erreur": "Error",
        "Financement pluriannuel": "Multi-year funding",
        "Total en vigueur": "Total in force",
        "Les conventions de ce projet": "This project's conventions",
        "Ce programme ne prévoit pas de convention de partenariat : aucun rappel d'échéance.": (
            "This programme has no partnership convention: no end reminders."
        ),
        "Seuls les pilotes du projet et l'agence peuvent enregistrer une convention.": (
            "Only the project's pilots and the agency can record a convention."
        ),
        "Montant": "Amount",
        "Date": "Date",
        "Date de réception": "Date received",
        "Parties": "Parties",
        "Convention": "Convention",
        "Projet": "Project",
        "valeur refusée.": "value refused.",
        _AMOUNT: "type an amount in euros, 0 or more (e.g. 22 999.50).",
        _REASONS[("create", "label")]: "give the convention's title.",
        _REASONS[("create", "parties")]: "tick at least one signing partner.",
        _REASONS[("create", "partner_id")]: "this is not (or no longer) a partner of the project.",
        _REASONS[("sign", "on")]: "the signature date is required and cannot be in the future.",
        _REASONS[("sign", "partner_id")]: "this party signed already, or is not a party.",
        _REASONS[("renew", "convention")]: (
            "every party must sign the convention first, and the programme must provide for "
            "express renewal."
        ),
        _REASONS[("renew", "on")]: "the convention lapsed at its end: record a new convention.",
        _REASONS[("amend", "on")]: (
            "the amendment's date must fall between the convention's start and its end."
        ),
        _REASONS[("amend", "object")]: "give the amendment's object.",
        _REASONS[("notice", "received_on")]: (
            "the date received is required; it can be neither in the future nor before the "
            "convention took effect."
        ),
        _REASONS[("notice", "partner_id")]: "this party gave notice already, or is not a party.",
        _DONE["create"]: "Convention recorded: it takes effect at the last signature.",
        _DONE["sign"]: "Signature recorded.",
        _DONE["renew"]: "Express renewal recorded.",
        _DONE["amend"]: "Amendment recorded.",
        _DONE["notice"]: "Notice recorded: the party leaves the convention when it runs out.",
        "Confirmation": "Confirmation",
        "confirmez en cochant la case.": "confirm by ticking the box.",
    }
)
