"""The one mechanism behind every form of the pages.

A form is declared as data (:class:`Form`, a list of :class:`Input`); this module renders it,
reads and checks what comes back, and runs it at most once:

- CSRF: the page's token (``web/csrf.py``) travels in every form and is checked on POST;
- validation on the server, field by field, with a French (or English) sentence beside each
  field and a summary at the top that takes the focus (``autofocus``: no script);
- lengths: each text input is bounded by ``web.bounds.MAX_LENGTH`` for its name, the same
  table the JSON API's schemas use;
- idempotency: each render issues a fresh token (``form_token``); the first POST carrying it
  claims it in ``form_submission``, and a second POST of the same token is sent to what the
  first one produced instead of repeating it (two clicks 30 ms apart make one meeting);
- post/redirect/get: success redirects to the project page with a confirmation banner
  (``flash`` in the session, shown once by ``base.html``).

The action itself is a call to ``workflow.records`` (or the engine): the rules live there. An
:class:`~workflow.errors.InvalidInput` it raises is shown beside the field it names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from notifications.wording import say
from web import i18n
from web.bounds import FIRST_DAY, LAST_DAY, MAX_ID, MAX_LENGTH, storable
from web.csrf import new_form_token
from web.templating import render
from workflow import tables
from workflow.errors import AlreadyRecorded, InvalidInput, NotFound

__all__ = [
    "Form",
    "Input",
    "Invalid",
    "flash",
    "once",
    "run_form",
    "show_form",
]

PARIS = ZoneInfo("Europe/Paris")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_KEEP_TOKENS = timedelta(days=2)
_MAX_NUMBER = 1e12
_KINDS = ("line", "text", "day", "instant", "number", "amount", "choice", "checks")


@dataclass(frozen=True)
class Input:
    """One field of a form. ``label`` and ``hint`` are French (translated on the page)."""

    name: str
    label: str
    kind: str = "line"
    required: bool = False
    choices: Sequence[tuple[str, str]] = ()
    value: Any = ""
    hint: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown input kind {self.kind!r} (kinds: {', '.join(_KINDS)})")

    @property
    def limit(self) -> int:
        """The longest text it takes: ``MAX_LENGTH`` of its name, else of its kind."""
        default = MAX_LENGTH["text"] if self.kind == "text" else MAX_LENGTH["label"]
        return MAX_LENGTH.get(self.name, default)


@dataclass(frozen=True)
class Form:
    """A form of a project's page: what it asks, and what it does with the answers.

    ``action`` gets the checked values (by input name) and returns the confirmation sentence
    (French; translated on the page). ``danger``: the form ends, suspends or undoes
    something; it is drawn apart and asks for confirmation.
    """

    key: str
    title: str
    inputs: list[Input]
    submit: str
    action: Callable[[dict[str, Any]], str]
    intro: str = ""
    danger: bool = False
    anchor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Invalid(Exception):
    """A field's value refused by a form itself (French sentence, translated on the page)."""

    def __init__(self, name: str, message: str, **params: Any) -> None:
        super().__init__(f"{name}: {message}")
        self.name, self.message, self.params = name, message, params


# -- reading and checking ------------------------------------------------------------------
def _day(text: str) -> date:
    text = text.strip()
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
        d, m, y = (int(p) for p in text.split("/"))
        return date(y, m, d)
    return date.fromisoformat(text)


def _check(spec: Input, raw: Any) -> Any:
    """The value of one input, or :class:`Invalid` saying what is wrong with it."""
    if spec.kind == "checks":
        values = [str(v) for v in raw] if isinstance(raw, list) else []
        known = {k for k, _ in spec.choices}
        if any(v not in known for v in values):
            raise Invalid(spec.name, "choix inconnu : rechargez la page")
        if spec.required and not values:
            raise Invalid(spec.name, "cochez au moins une case")
        return values
    text = raw if isinstance(raw, str) else ""
    text = text.strip()
    if len(text) > spec.limit:
        raise Invalid(
            spec.name, "{limit} caractères au plus (vous en avez saisi {given})",
            limit=spec.limit, given=len(text),
        )  # fmt: skip
    if not storable(text, lines=spec.kind == "text"):
        raise Invalid(spec.name, "caractères de contrôle non admis")
    if not text:
        if spec.required:
            raise Invalid(spec.name, "à remplir")
        return [] if spec.kind == "checks" else (None if spec.kind != "line" else "")
    if spec.kind in ("line", "text"):
        return text
    if spec.kind == "choice":
        if text not in {k for k, _ in spec.choices}:
            raise Invalid(spec.name, "choix inconnu : rechargez la page")
        return text
    if spec.kind == "day":
        try:
            day = _day(text)
        except ValueError:
            raise Invalid(
                spec.name, "« {value} » n'est pas une date (jj/mm/aaaa)", value=text[:40]
            ) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise Invalid(spec.name, "la date doit être entre 2000 et 2100")
        return day
    if spec.kind == "instant":
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise Invalid(
                spec.name, "« {value} » n'est pas une date et une heure", value=text[:40]
            ) from None
        if not FIRST_DAY <= instant.date() <= LAST_DAY:
            raise Invalid(spec.name, "la date doit être entre 2000 et 2100")
        return instant if instant.tzinfo else instant.replace(tzinfo=PARIS)
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.removesuffix("€")
    try:
        number = float(cleaned)
    except ValueError:
        raise Invalid(spec.name, "« {value} » n'est pas un nombre", value=text[:40]) from None
    if not abs(number) <= _MAX_NUMBER:  # also refuses NaN
        raise Invalid(spec.name, "nombre hors limites")
    if spec.kind == "amount":
        cents = round(number * 100)
        if cents < 0 or cents > MAX_ID:
            raise Invalid(spec.name, "un montant entre 0 et 21 474 836,47 €")
        return cents
    return number


def _values(form: Form, data: FormData) -> tuple[dict[str, Any], list[Invalid]]:
    values: dict[str, Any] = {}
    errors: list[Invalid] = []
    for spec in form.inputs:
        raw: Any = data.getlist(spec.name) if spec.kind == "checks" else data.get(spec.name, "")
        try:
            values[spec.name] = _check(spec, raw)
        except Invalid as invalid:
            errors.append(invalid)
    return values, errors


# -- idempotency ---------------------------------------------------------------------------
def _claim(c: Any, token: str, user_id: int) -> Any:
    """Claim ``token`` for this POST: None when claimed now, else the earlier claim's row."""
    now = c.engine.clock.now()
    try:
        with c.db.begin() as conn:
            conn.execute(
                sa.delete(tables.form_submission).where(
                    tables.form_submission.c.claimed_at < now - _KEEP_TOKENS
                )
            )
            conn.execute(
                sa.insert(tables.form_submission).values(
                    token=token, user_id=user_id, claimed_at=now
                )
            )
        return None
    except sa.exc.IntegrityError:
        with c.db.connect() as conn:
            return conn.execute(
                sa.select(tables.form_submission).where(tables.form_submission.c.token == token)
            ).one_or_none()


def _settle(c: Any, token: str, outcome_url: str | None, message: str | None) -> None:
    """The claimed token's outcome; none (the action refused) frees it for a corrected POST."""
    with c.db.begin() as conn:
        where = tables.form_submission.c.token == token
        if outcome_url is None:
            conn.execute(sa.delete(tables.form_submission).where(where))
        else:
            conn.execute(
                sa.update(tables.form_submission)
                .where(where)
                .values(outcome_url=outcome_url, flash=message)
            )


def _repeat(request: Request, earlier: Any, back: str) -> Response:
    """A second POST of a claimed token: the first one's outcome, not a second action."""
    if earlier.outcome_url is None:
        flash(request, "Ce formulaire est déjà en cours d'enregistrement : il n'a pas été répété.")
        return RedirectResponse(back, status_code=303)
    flash(request, str(earlier.flash or ""), repeated=True)
    return RedirectResponse(earlier.outcome_url, status_code=303)


def once(
    request: Request,
    c: Any,
    user: Any,
    token: str,
    back: str | Callable[[], str],
    action: Callable[[], str | Response],
) -> Response:
    """Run a form's ``action`` once per token, then redirect to ``back`` with its sentence.

    For the forms written out in a page (the project page's own forms); the action may
    return a response of its own (a refusal shown in the page), which frees the token. A
    POST without a token (an older page) is run as it comes. ``back`` may be a function
    called after the action (an upload goes back to the document it created).
    """

    def where() -> str:
        return back if isinstance(back, str) else back()

    if not _TOKEN.match(token or ""):
        outcome = action()
        if isinstance(outcome, str):
            flash(request, outcome)
            return RedirectResponse(where(), status_code=303)
        return outcome
    earlier = _claim(c, token, user.id)
    if earlier is not None:
        return _repeat(request, earlier, back if isinstance(back, str) else request.url.path)
    try:
        outcome = action()
    except BaseException:
        _settle(c, token, None, None)
        raise
    if not isinstance(outcome, str):
        _settle(c, token, None, None)
        return outcome
    url = where()
    _settle(c, token, url, outcome)
    flash(request, outcome)
    return RedirectResponse(url, status_code=303)


# -- pages ---------------------------------------------------------------------------------
def flash(request: Request, message: str, *, repeated: bool = False) -> None:
    """A confirmation shown once, on the next page (``base.html``); ``repeated``: the form
    was sent again and not repeated, the page says so."""
    request.session["flash"] = message
    request.session["flash_repeated"] = repeated


def _translate(lang: str, message: str, params: dict[str, Any]) -> str:
    return i18n.gettext(lang)(message).format(**params)


def show_form(
    request: Request,
    form: Form,
    project: Any,
    *,
    data: FormData | None = None,
    errors: Sequence[Invalid] = (),
    status_code: int = 200,
) -> Response:
    lang = i18n.language(request)
    _ = i18n.gettext(lang)
    labels = {spec.name: _(spec.label) for spec in form.inputs}
    field_errors = {e.name: _translate(lang, e.message, e.params) for e in errors}
    shown: dict[str, Any] = {}
    for spec in form.inputs:
        if data is None:
            shown[spec.name] = spec.value
        elif spec.kind == "checks":
            shown[spec.name] = data.getlist(spec.name)
        else:
            given = data.get(spec.name, "")
            shown[spec.name] = given if isinstance(given, str) else ""
    summary = [
        {"name": e.name, "text": f"{labels.get(e.name, e.name)} : {field_errors[e.name]}"}
        for e in errors
    ]
    return render(
        request,
        "forms/form.html",
        {
            "form": form,
            "p": project,
            "shown": shown,
            "errors": field_errors,
            "summary": summary,
            "form_token": new_form_token(),
        },
        status_code=status_code,
    )


def _refusal(exc: Exception, form: Form, lang: str) -> Invalid:
    """What a record function refused, beside the field it names (else in the summary), in
    the reader's language: the refusal's phrase when it has one, else a plain "refused"."""
    names = {spec.name for spec in form.inputs}
    if isinstance(exc, InvalidInput):
        name = exc.field if exc.field in names else "_form"
        if exc.phrase is None:
            return Invalid(name, "valeur refusée : vérifiez ce champ.")
        return Invalid(name, "refusé : {reason}", reason=say(exc.phrase, lang, **exc.params))
    if isinstance(exc, AlreadyRecorded):
        name, text = "_form", "déjà enregistré par {by} le {on}"
        return Invalid(name, text, by=exc.done_by, on=exc.done_on.strftime("%d/%m/%Y"))
    return Invalid("_form", "introuvable : la page a peut-être changé entre-temps.")


async def run_form(
    request: Request, c: Any, user: Any, form: Form, project: Any, back: str
) -> Response:
    """Check, claim the token, act once, and redirect to ``back`` with a confirmation."""
    data = await request.form()
    token = data.get("form_token")
    if not isinstance(token, str) or not _TOKEN.match(token):
        expired = Invalid("_form", "ce formulaire a expiré : vérifiez-le et envoyez-le à nouveau")
        return show_form(request, form, project, data=data, errors=[expired], status_code=422)
    values, errors = _values(form, data)
    if errors:
        return show_form(request, form, project, data=data, errors=errors, status_code=422)
    earlier = _claim(c, token, user.id)
    if earlier is not None:
        if earlier.outcome_url is None:
            flash(
                request, "Ce formulaire est déjà en cours d'enregistrement : il n'a pas été répété."
            )
            return RedirectResponse(back, status_code=303)
        flash(request, str(earlier.flash or ""), repeated=True)
        return RedirectResponse(earlier.outcome_url, status_code=303)
    try:
        message = await run_in_threadpool(form.action, values)
    except (Invalid, InvalidInput, NotFound, AlreadyRecorded) as exc:
        _settle(c, token, None, None)
        refusal = exc if isinstance(exc, Invalid) else _refusal(exc, form, i18n.language(request))
        return show_form(request, form, project, data=data, errors=[refusal], status_code=422)
    except BaseException:
        _settle(c, token, None, None)
        raise
    _settle(c, token, back, message)
    flash(request, message)
    return RedirectResponse(back, status_code=303)


i18n.register(
    {
        "choix inconnu : rechargez la page": "unknown choice: reload the page",
        "cochez au moins une case": "tick at least one box",
        "{limit} caractères au plus (vous en avez saisi {given})": (
            "at most {limit} characters (you entered {given})"
        ),
        "caractères de contrôle non admis": "control characters are not allowed",
        "à remplir": "required",
        "« {value} » n'est pas une date (jj/mm/aaaa)": "“{value}” is not a date (dd/mm/yyyy)",
        "la date doit être entre 2000 et 2100": "the date must be between 2000 and 2100",
        "« {value} » n'est pas une date et une heure": "“{value}” is not a date and time",
        "« {value} » n'est pas un nombre": "“{value}” is not a number",
        "nombre hors limites": "number out of bounds",
        "un montant entre 0 et 21 474 836,47 €": "an amount between €0 and €21,474,836.47",
        "ce formulaire a expiré : vérifiez-le et envoyez-le à nouveau": (
            "this form has expired: check it and send it again"
        ),
        "refusé : {reason}": "refused: {reason}",
        "valeur refusée : vérifiez ce champ.": "value refused: check this field.",
        "introuvable : la page a peut-être changé entre-temps.": (
            "not found: the page may have changed meanwhile."
        ),
        "déjà enregistré par {by} le {on}": "already recorded by {by} on {on}",
        "Ce formulaire est déjà en cours d'enregistrement : il n'a pas été répété.": (
            "This form is already being recorded: it was not repeated."
        ),
    }
)
