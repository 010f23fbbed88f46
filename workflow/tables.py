"""The tables as SQLAlchemy Core handles, typed, one name each: the only place they are taken.

The hot paths and the read models write Core statements (``tables.milestone.c.due_on``) rather
than ORM queries; they all reach the tables through this module, so a name means one table
everywhere (``report`` is the quarterly report, ``reminder`` the planned reminder).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from workflow import models  # noqa: F401  (registers every table on SQLModel.metadata)

__all__ = [
    "api_token",
    "attendance",
    "blob",
    "blob_chunk",
    "budget_line",
    "convention",
    "convention_change",
    "convention_party",
    "copil_tally",
    "decision",
    "document",
    "document_version",
    "due_tally",
    "fiche_action",
    "form_submission",
    "funding_share",
    "history",
    "indicator",
    "meeting",
    "metadata",
    "milestone",
    "milestone_completion",
    "objective",
    "outbox",
    "overdue_daily",
    "owed_report",
    "owed_tally",
    "partner",
    "preference",
    "project",
    "realised_value",
    "reminder",
    "report",
    "report_draft",
    "user_account",
]

metadata: sa.MetaData = SQLModel.metadata

project: sa.Table = metadata.tables["project"]
copil_tally: sa.Table = metadata.tables["copil_tally"]
partner: sa.Table = metadata.tables["partner"]
milestone: sa.Table = metadata.tables["milestone"]
milestone_completion: sa.Table = metadata.tables["milestone_completion"]
meeting: sa.Table = metadata.tables["meeting"]
decision: sa.Table = metadata.tables["decision"]
indicator: sa.Table = metadata.tables["indicator"]
budget_line: sa.Table = metadata.tables["budgetline"]
report: sa.Table = metadata.tables["report"]
convention: sa.Table = metadata.tables["convention"]
convention_party: sa.Table = metadata.tables["convention_party"]
convention_change: sa.Table = metadata.tables["convention_change"]
report_draft: sa.Table = metadata.tables["report_draft"]
history: sa.Table = metadata.tables["history"]
reminder: sa.Table = metadata.tables["reminder"]
outbox: sa.Table = metadata.tables["outbox"]
overdue_daily: sa.Table = metadata.tables["overdue_daily"]
owed_report: sa.Table = metadata.tables["owed_report"]
due_tally: sa.Table = metadata.tables["due_tally"]
owed_tally: sa.Table = metadata.tables["owed_tally"]
attendance: sa.Table = metadata.tables["attendance"]
preference: sa.Table = metadata.tables["preference"]
objective: sa.Table = metadata.tables["objective"]
fiche_action: sa.Table = metadata.tables["fiche_action"]
funding_share: sa.Table = metadata.tables["funding_share"]
realised_value: sa.Table = metadata.tables["realised_value"]
user_account: sa.Table = metadata.tables["user_account"]
api_token: sa.Table = metadata.tables["api_token"]
blob: sa.Table = metadata.tables["blob"]
blob_chunk: sa.Table = metadata.tables["blob_chunk"]
document: sa.Table = metadata.tables["document"]
document_version: sa.Table = metadata.tables["document_version"]
form_submission: sa.Table = metadata.tables["form_submission"]
