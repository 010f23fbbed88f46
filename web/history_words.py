"""How the history words the changes that are not phase changes: a convention's, the plan
d'actions' and the budget's (``workflow.conventions.CONVENTION_TRIGGERS``,
``workflow.plan.PLAN_TRIGGERS``). French here, English registered below; the project page and
the API's readers see these labels, never the keys."""

from __future__ import annotations

from web import i18n

__all__ = ["RECORD_LABELS"]

RECORD_LABELS = {
    "convention_created": "Convention préparée",
    "convention_signed": "Convention signée par une partie",
    "convention_effective": "Convention en vigueur",
    "convention_renewed": "Convention renouvelée",
    "convention_amended": "Avenant à la convention",
    "convention_notice": "Dénonciation de la convention",
    "objective_created": "Objectif ajouté",
    "objective_changed": "Objectif modifié",
    "action_created": "Fiche-action ajoutée",
    "action_changed": "Fiche-action modifiée",
    "indicator_created": "Indicateur ajouté",
    "indicator_changed": "Indicateur modifié",
    "meeting_noted": "Réunion annotée pour le rapport CPOM",
    "realised_reported": "Réalisations transmises par un bilan trimestriel",
    "budget_line_added": "Ligne de budget ajoutée",
    "budget_line_changed": "Ligne de budget modifiée",
    "funding_share_set": "Part de cofinancement enregistrée",
    "funding_share_removed": "Part de cofinancement retirée",
}

i18n.register(
    {
        "Convention préparée": "Agreement prepared",
        "Convention signée par une partie": "Agreement signed by a party",
        "Convention en vigueur": "Agreement in force",
        "Convention renouvelée": "Agreement renewed",
        "Avenant à la convention": "Amendment to the agreement",
        "Dénonciation de la convention": "Notice of termination of the agreement",
        "Objectif ajouté": "Objective added",
        "Objectif modifié": "Objective changed",
        "Fiche-action ajoutée": "Action sheet added",
        "Fiche-action modifiée": "Action sheet changed",
        "Indicateur ajouté": "Indicator added",
        "Indicateur modifié": "Indicator changed",
        "Réunion annotée pour le rapport CPOM": "Meeting annotated for the CPOM report",
        "Réalisations transmises par un bilan trimestriel": (
            "Achievements sent in a quarterly report"
        ),
        "Ligne de budget ajoutée": "Budget line added",
        "Ligne de budget modifiée": "Budget line changed",
        "Part de cofinancement enregistrée": "Co-financing share recorded",
        "Part de cofinancement retirée": "Co-financing share removed",
    }
)
