"""What the forms of a project page are built from (``web/pages/forms.py``), and the date
checks they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from web.forms import Invalid
from workflow.definition import Definition
from workflow.read_models.detail import ProjectDetail

__all__ = ["PARIS", "Context", "not_after_today", "not_before_today"]

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Context:
    """What a form is built from: the system, who acts, the project as it is now."""

    c: Any
    user: Any
    project: ProjectDetail
    definition: Definition
    lang: str
    query: Mapping[str, str]

    @property
    def pid(self) -> int:
        return self.project.id

    @property
    def actor(self) -> str:
        return str(self.user.name or self.user.email)

    @property
    def today(self) -> date:
        return self.project.today


def not_after_today(ctx: Context, name: str, day: date | None) -> date | None:
    if day is not None and day > ctx.today:
        raise Invalid(name, "la date ne peut pas être dans le futur")
    return day


def not_before_today(ctx: Context, name: str, day: date | None) -> date | None:
    if day is not None and day < ctx.today:
        raise Invalid(name, "la date ne peut pas être passée")
    return day
