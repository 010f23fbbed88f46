"""The agency's users page: who signs in, and the same actions as ``copilote user``.

Agency users only (a pilot gets 403). Disable or enable a user, set a password (both end the
user's sessions), and revoke API tokens (creating one stays on the command line, which shows
it once). Every action is a plain form with its CSRF token, answered by a redirect here.

Disabling a user and revoking a token are confirmed first: a confirmation page (``GET`` the
action's path) that says what will happen, shown in a modal on the users page when
JavaScript runs (``_confirm.html``). Their ``POST`` is refused unless it carries the
confirmation's field, so a one-click POST (an old page, a forged form) changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web import i18n
from web.auth import Accounts, Forbidden, Principal, TokenInfo
from web.deps import AccountsDep, CopiloteDep, CsrfForm, PageUser
from web.templating import render
from workflow.errors import InvalidInput, NotFound

router = APIRouter()


def _agency(user: Principal, action: str) -> None:
    if not user.is_agency:
        raise Forbidden(user.email, action)


def _back() -> Response:
    return RedirectResponse("/users", status_code=303)


Confirmation = Annotated[str, Form(max_length=10)]
CONFIRMED = "yes"  # the value of the confirmation's field (``confirm``), page and modal alike


def _confirmed(confirm: str) -> None:
    if confirm != CONFIRMED:
        raise InvalidInput(
            "confirm",
            "this action must be confirmed (its confirmation page or window); nothing changed",
            "input.confirmation_missing",
        )


def _account(accounts: Accounts, user_id: int) -> Principal:
    """The user (disabled or not) with this id; NotFound otherwise."""
    found = next((who for who, _ in accounts.users() if who.id == user_id), None)
    if found is None:
        raise NotFound("user", user_id)
    return found


def _confirm_page(
    request: Request, action: str, who: Principal, token: TokenInfo | None = None
) -> Response:
    return render(request, "users_confirm.html", {"action": action, "who": who, "token": token})


@router.get("/users")
def users_page(request: Request, user: PageUser, c: CopiloteDep) -> Response:
    _agency(user, "manage the users")
    accounts, now = c.accounts, c.clock.now()
    rows = [
        {
            "user": who,
            "disabled_at": disabled_at,
            "tokens": [(t, t.state(now)) for t in accounts.tokens(who.id)],
        }
        for who, disabled_at in accounts.users()
    ]
    return render(request, "users.html", {"rows": rows, "me": user})


def _not_oneself(user_id: int, user: Principal) -> None:
    if user_id == user.id:
        raise InvalidInput("user", "you cannot disable your own account")


@router.get("/users/{user_id}/disable")
def disable_page(request: Request, user_id: int, user: PageUser, accounts: AccountsDep) -> Response:
    _agency(user, "disable users")
    _not_oneself(user_id, user)
    return _confirm_page(request, "disable", _account(accounts, user_id))


@router.post("/users/{user_id}/disable", dependencies=[CsrfForm])
def disable(
    user_id: int, user: PageUser, accounts: AccountsDep, confirm: Confirmation = ""
) -> Response:
    _agency(user, "disable users")
    _not_oneself(user_id, user)
    _confirmed(confirm)
    accounts.set_disabled(user_id, True)
    return _back()


@router.post("/users/{user_id}/enable", dependencies=[CsrfForm])
def enable(user_id: int, user: PageUser, accounts: AccountsDep) -> Response:
    _agency(user, "enable users")
    accounts.set_disabled(user_id, False)
    return _back()


@router.post("/users/{user_id}/password", dependencies=[CsrfForm])
def password(
    user_id: int,
    user: PageUser,
    accounts: AccountsDep,
    new_password: Annotated[str, Form()],
) -> Response:
    _agency(user, "change passwords")
    accounts.set_password(user_id, new_password)
    return _back()


@router.get("/users/{user_id}/tokens/{token_id}/revoke")
def revoke_page(
    request: Request, user_id: int, token_id: int, user: PageUser, accounts: AccountsDep
) -> Response:
    _agency(user, "revoke API tokens")
    who = _account(accounts, user_id)
    token = next((t for t in accounts.tokens(user_id) if t.id == token_id), None)
    if token is None:
        raise NotFound("API token", token_id)
    return _confirm_page(request, "revoke", who, token)


@router.post("/users/{user_id}/tokens/{token_id}/revoke", dependencies=[CsrfForm])
def revoke(
    user_id: int, token_id: int, user: PageUser, accounts: AccountsDep, confirm: Confirmation = ""
) -> Response:
    _agency(user, "revoke API tokens")
    _confirmed(confirm)
    accounts.revoke_token(user_id, token_id)
    return _back()


i18n.register(
    {
        "Utilisateurs": "Users",
        "Adresse e-mail": "Email address",
        "Nom": "Name",
        "Rôle": "Role",
        "État": "State",
        "Jetons d'API": "API tokens",
        "actif": "active",
        "désactivé": "disabled",
        "révoqué": "revoked",
        "expiré": "expired",
        "expire le": "expires on",
        "Désactiver": "Disable",
        "Réactiver": "Enable",
        "Révoquer": "Revoke",
        "Nouveau mot de passe": "New password",
        "Changer le mot de passe": "Change the password",
        "aucun": "none",
        "agence": "agency",
        "pilote": "pilot",
        "Désactiver le compte de {name} ?": "Disable the account of {name}?",
        "Révoquer le jeton d'API « {token} » ?": "Revoke the API token “{token}”?",
        "{name} ({email}) ne pourra plus se connecter : ses sessions en cours prennent fin et"
        " ses jetons d'API sont refusés dès maintenant. Vous pourrez réactiver le compte depuis"
        " cette page.": (
            "{name} ({email}) will no longer be able to sign in: their current sessions end and"
            " their API tokens are refused from now on. You can enable the account again from"
            " this page."
        ),
        "Ce jeton de {name} ({email}), qui expire le {expires}, sera refusé dès maintenant :"
        " les outils qui l'utilisent ne pourront plus lire ni écrire. La révocation est"
        " définitive ; un nouveau jeton se crée avec copilote user token create.": (
            "This token of {name} ({email}), which expires on {expires}, will be refused from"
            " now on: the tools that use it will no longer read or write. Revoking is final;"
            " a new token is created with copilote user token create."
        ),
        "Désactiver le compte": "Disable the account",
        "Révoquer le jeton": "Revoke the token",
        "Désactiver un utilisateur, changer son mot de passe ou se déconnecter met fin à toutes"
        " ses sessions. Les jetons d'API se créent avec copilote user token create.": (
            "Disabling a user, changing their password or signing out ends all their sessions."
            " API tokens are created with copilote user token create."
        ),
    }
)
