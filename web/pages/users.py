"""The agency's users page: who signs in, and the same actions as ``copilote user``.

Agency users only (a pilot gets 403). Disable or enable a user, set a password (both end the
user's sessions), and revoke API tokens (creating one stays on the command line, which shows
it once). Every action is a plain form with its CSRF token, answered by a redirect here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web import i18n
from web.auth import Forbidden, Principal
from web.deps import AccountsDep, CopiloteDep, CsrfForm, PageUser
from web.templating import render
from workflow.errors import InvalidInput

router = APIRouter()


def _agency(user: Principal, action: str) -> None:
    if not user.is_agency:
        raise Forbidden(user.email, action)


def _back() -> Response:
    return RedirectResponse("/users", status_code=303)


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


@router.post("/users/{user_id}/disable", dependencies=[CsrfForm])
def disable(user_id: int, user: PageUser, accounts: AccountsDep) -> Response:
    _agency(user, "disable users")
    if user_id == user.id:
        raise InvalidInput("user", "you cannot disable your own account")
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


@router.post("/users/{user_id}/tokens/{token_id}/revoke", dependencies=[CsrfForm])
def revoke(user_id: int, token_id: int, user: PageUser, accounts: AccountsDep) -> Response:
    _agency(user, "revoke API tokens")
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
        "Désactiver un utilisateur, changer son mot de passe ou se déconnecter met fin à toutes"
        " ses sessions. Les jetons d'API se créent avec copilote user token create.": (
            "Disabling a user, changing their password or signing out ends all their sessions."
            " API tokens are created with copilote user token create."
        ),
    }
)
