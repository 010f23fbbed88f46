"""The plan d'actions a coopérative enters before « Valider le plan d'actions » (its step
requires objectives and a fiche-action, issue 13): one general objective, one action."""

from __future__ import annotations

from workflow.plan import ActionIn
from workflow.records import Records


def enter_plan(records: Records, project_id: int) -> None:
    records.plan.set_objective(
        project_id,
        "acces_sante",
        level="general",
        label="Améliorer l'accès à la santé",
        by="Claire (DD 93)",
    )
    records.plan.set_action(
        project_id,
        "ateliers",
        ActionIn(objective="acces_sante", label="Ateliers de prévention"),
        by="Claire (DD 93)",
    )
