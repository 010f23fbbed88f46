"""A programme's annual CPOM report across all of its projects (issue 14, point 4), for the
agency only: ``/programmes/{programme}/export/annual.csv|xlsx?year=&as_of=``, reached from the
dashboard's programme filter. The rows are each project's report (``web.cpom``), the project
in a column of its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from web.auth import Forbidden, Principal
from web.bounds import form_day, query_year
from web.cpom import programme_csv, programme_xlsx
from web.deps import CopiloteDep, PageUser
from web.pages.responses import PAGE_RESPONSES, file_response
from web.ports import Application
from workflow.read_models.programme_annual import ProgrammeReport, programme_annual_report

__all__ = ["router"]

router = APIRouter(responses=PAGE_RESPONSES)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Programme = Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


def _report(
    c: Application, user: Principal, programme: str, year: str, as_of: str
) -> ProgrammeReport:
    if not user.is_agency:  # a pilot sees only their own projects, not a whole programme
        raise Forbidden(user.email, f"export programme {programme}'s annual report")
    day = form_day(as_of, "as_of") if as_of else None
    return programme_annual_report(
        c.engine, programme, query_year(year, day or c.engine.today()), day
    )


def _attachment(report: ProgrammeReport, extension: str) -> dict[str, str]:
    name = f"rapport-annuel-{report.programme}-{report.year}-{report.as_of:%Y%m%d}.{extension}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/programmes/{programme}/export/annual.csv",
    response_class=Response,
    responses=file_response("text/csv", "every project's annual report, a project column (CSV)"),
)
def programme_annual_csv(
    programme: Programme, user: PageUser, c: CopiloteDep, year: str = "", as_of: str = ""
) -> Response:
    report = _report(c, user, programme, year, as_of)
    return Response(
        programme_csv(report),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(report, "csv"),
    )


@router.get(
    "/programmes/{programme}/export/annual.xlsx",
    response_class=Response,
    responses=file_response(XLSX_TYPE, "every project's annual report (Excel workbook)"),
)
def programme_annual_xlsx(
    programme: Programme, user: PageUser, c: CopiloteDep, year: str = "", as_of: str = ""
) -> Response:
    report = _report(c, user, programme, year, as_of)
    return Response(
        programme_xlsx(report), media_type=XLSX_TYPE, headers=_attachment(report, "xlsx")
    )
