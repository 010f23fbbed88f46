"""What the web needs of the running system, and nothing more.

The composition root (:class:`service.Copilote`) builds the pieces and hands itself to
:func:`web.app.create_app`; the web only knows it through :class:`Application`, so it never
imports the layer above it. Members are read-only: the web does not rewire the system.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

from notifications import Renderer
from web.auth import Accounts
from web.links import Links
from web.metrics import Metrics
from workflow.clock import Clock
from workflow.conventions import Conventions
from workflow.documents import Documents
from workflow.engine import Engine
from workflow.loader import DefinitionRegistry
from workflow.records import Records

__all__ = ["Application", "WebSettings"]


class WebSettings(Protocol):
    """The settings the web reads."""

    @property
    def secret_key(self) -> str: ...  # signs session cookies and feed keys
    @property
    def base_url(self) -> str: ...  # https:// makes session cookies secure-only
    @property
    def scheduler(self) -> bool: ...  # whether this instance sweeps (``/health``)
    @property
    def sweep_interval_seconds(self) -> int: ...
    @property
    def mail_domain(self) -> str: ...
    @property
    def upload_max_bytes(self) -> int: ...  # larger uploads are refused, nothing stored
    @property
    def agency_name(self) -> str: ...  # in every page's header and the legal pages
    @property
    def brand(self) -> str: ...  # "state" (the State block shown) or "neutral"
    @property
    def contact_email(self) -> str: ...  # accessibility and personal data ("" = none)


class Application(Protocol):
    """The running system as the web uses it (``request.app.state.copilote``)."""

    @property
    def settings(self) -> WebSettings: ...
    @property
    def db(self) -> sa.Engine: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def registry(self) -> DefinitionRegistry: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def records(self) -> Records: ...
    @property
    def conventions(self) -> Conventions: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def links(self) -> Links: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def renderer(self) -> Renderer: ...
    @property
    def documents(self) -> Documents: ...
