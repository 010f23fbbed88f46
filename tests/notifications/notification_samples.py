"""A realistic sample item for every notification kind (fields as the workflow sends them).

A kind added to the templates without a sample here fails ``test_every_kind_renders_in_french``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

COMMON: dict[str, Any] = {
    "project_title": "Coopérative d'acteurs du Lensois",
    "programme": "Coopérative d'acteurs en santé",
    "pilot_name": "Claire Martin",
    "pilot_email": "claire.martin@ars.sante.fr",
    "answer_url": None,
}
DEADLINE_FLAGS: dict[str, Any] = {
    "due_is_non_working": False,
    "non_working_day": None,
    "moved_from": None,
}
MEETING: dict[str, Any] = {
    "meeting_label": "COPIL 2",
    "series_label": "Comité de pilotage",
    "starts_at": datetime(2026, 3, 2, 9, 0, tzinfo=PARIS),
    "ends_at": datetime(2026, 3, 2, 11, 0, tzinfo=PARIS),
    "location": "Mairie de Lens, salle du conseil",
    "agenda": "1. Validation du diagnostic\n2. Choix des actions prioritaires",
    "sequence": 0,
}
MILESTONE: dict[str, Any] = {
    "milestone_label": "Diagnostic local de santé",
    "deliverable": "Rapport de diagnostic",
    "responsible": "Structure partenaire",
    "due": date(2026, 3, 2),
    **DEADLINE_FLAGS,
}
REPORT: dict[str, Any] = {
    "report_label": "Bilan trimestriel",
    "period": "2026-Q1",
    "due": date(2026, 3, 2),
    "partner_name": "Association Prévention Lens",
    **DEADLINE_FLAGS,
}
EVENT: dict[str, Any] = {
    "actor": "Claire Martin",
    "comment": "Décision prise en COPIL du 27 février.",
    "at": datetime(2026, 3, 2, 14, 30, tzinfo=PARIS),
}

SAMPLES: dict[str, dict[str, Any]] = {
    "milestone_reminder": {**MILESTONE, "days_left": 7},
    "milestone_overdue": {**MILESTONE, "days_late": 3},
    "milestone_escalation": {**MILESTONE, "days_late": 15, "responsible_name": "Karim Benali"},
    "overdue_digest": {
        "overdue": [
            {
                "label": "Fiche de cadrage",
                "due": date(2026, 3, 2),
                "days_late": 12,
                "responsible": "Pilote de projet",
            },
            {
                "label": "Bilan trimestriel T4",
                "due": date(2026, 2, 13),
                "days_late": 29,
                "responsible": "Association Prévention Lens",
            },
        ]
    },
    "meeting_invitation": dict(MEETING),
    "meeting_update": {**MEETING, "sequence": 1},
    "meeting_cancel": {**MEETING, "sequence": 2},
    "meeting_reminder": {**MEETING, "days_left": 2},
    "meeting_minutes_request": dict(MEETING),
    "series_behind": {
        "series_label": "Comité de pilotage",
        "last_held": date(2025, 12, 4),
        "cadence": {"every": 2, "unit": "months"},
        "expected_by": date(2026, 3, 2),
    },
    "report_request": {**REPORT, "days_left": 30},
    "report_reminder": {**REPORT, "days_left": 5},
    "report_overdue": {**REPORT, "days_late": 4},
    "report_escalation": {**REPORT, "days_late": 21},
    "annual_review": {
        "convention_anniversary": date(2026, 5, 4),
        "review_by": date(2026, 3, 2),
    },
    "convention_end": {"convention_end": date(2026, 3, 2), "days_left": 60},
    "phase_changed": {"from_phase": "Diagnostic", "to_phase": "Plan d'actions", **EVENT},
    "project_suspended": {"phase": "Mise en œuvre", **EVENT},
    "project_resumed": {"phase": "Mise en œuvre", **EVENT},
    "project_abandoned": {"phase": "Mise en œuvre", **EVENT},
    "partner_joined": {"partner_name": "Centre de santé Liévin", "at": date(2026, 3, 2)},
    "partner_left": {"partner_name": "Centre de santé Liévin", "at": date(2026, 3, 2)},
    "meeting_minutes": {
        "meeting_label": "COPIL 2",
        "series_label": "Comité de pilotage",
        "held_on": date(2026, 3, 2),
        "filename": "CR COPIL 2.pdf",
    },
    "answer_link": {"partner_name": "Association Prévention Lens", "valid_until": date(2026, 3, 2)},
}

# What each French rendering must say, beyond the common checks (kind-specific facts).
EXPECTED_FR: dict[str, list[str]] = {
    "milestone_reminder": ["Rapport de diagnostic", "Structure partenaire", "dans 7 jours"],
    "milestone_overdue": ["Rapport de diagnostic", "3 jours de retard"],
    "milestone_escalation": ["Karim Benali", "15 jours de retard"],
    "overdue_digest": ["Fiche de cadrage", "Bilan trimestriel T4", "vendredi 13 février 2026"],
    "meeting_invitation": ["Invitation", "de 9 h à 11 h", "Mairie de Lens", "Validation"],
    "meeting_update": ["modifiée", "de 9 h à 11 h"],
    "meeting_cancel": ["annulée", "aucune action"],
    "meeting_reminder": ["dans 2 jours", "prévenir votre pilote"],
    "meeting_minutes_request": ["compte rendu", "liste des présents"],
    "series_behind": ["tous les 2 mois", "jeudi 4 décembre 2025"],
    "report_request": ["Bilan trimestriel", "1er trimestre 2026", "Association Prévention Lens"],
    "report_reminder": ["dans 5 jours", "Bilan trimestriel"],
    "report_overdue": ["4 jours de retard", "Bilan trimestriel"],
    "report_escalation": ["Malgré les relances", "21 jours de retard"],
    "annual_review": ["bilan annuel", "lundi 4 mai 2026"],
    "convention_end": ["reconduction", "dans 60 jours"],
    "phase_changed": ["Diagnostic", "Plan d'actions", "lundi 2 mars 2026 à 14 h 30", "COPIL du 27"],
    "project_suspended": ["suspendu", "Mise en œuvre"],
    "project_resumed": ["relancé", "Mise en œuvre"],
    "project_abandoned": ["mis fin", "Mise en œuvre"],
    "partner_joined": ["Centre de santé Liévin", "a rejoint"],
    "partner_left": ["Centre de santé Liévin", "a quitté"],
    "meeting_minutes": ["COPIL 2", "lundi 2 mars 2026", "CR COPIL 2.pdf", "n'est pas joint"],
    "answer_link": ["nouveau lien", "Association Prévention Lens", "valable au moins jusqu'au"],
}


def sample(kind: str, **overrides: Any) -> dict[str, Any]:
    return {"kind": kind, **COMMON, **SAMPLES[kind], **overrides}
