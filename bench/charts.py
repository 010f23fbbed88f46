"""Figure (issue 14, points 3 and 4): server time of the dashboard's charts, of the due work's
daily overdue count, and of the portfolio exports, on SQLite with the dashboard benchmark's
database (10,000 projects, 1,000,000 milestones, 60,000 meetings: see bench/dashboard.py).

Measured, each ``RUNS`` times (median and max printed; nothing asserts a time):

1. ``workflow.read_models.charts.chart_data``: the four charts' figures (grouped SQL), with
   no filter and with a territory filter;
2. ``workflow.overdue_daily.record_overdue_daily``: a full count (the day's row removed
   before each run, so it is counted again), the step the due work runs once an hour;
3. ``GET /dashboard/export.csv`` and ``.xlsx`` of the whole portfolio (10,000 rows), with
   the peak of Python memory (tracemalloc) during the CSV export.

Runtime: about 3 minutes on 2 cores (1 minute of it building).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import ROOT, machine
from dashboard import NOW, PASSWORD, TODAY, build
from fastapi.testclient import TestClient

RUNS = 5


def timed(fn: Callable[[], Any]) -> list[float]:
    found = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        found.append((time.perf_counter() - started) * 1000)
    return found


def show(name: str, ms: list[float]) -> None:
    print(f"  {name:<48} median {statistics.median(ms):8.1f} ms   max {max(ms):8.1f} ms")


def main() -> None:
    from service import Copilote, Settings
    from workflow import tables
    from workflow.clock import FixedClock
    from workflow.overdue_daily import record_overdue_daily
    from workflow.read_models.charts import chart_data
    from workflow.read_models.portfolio import Filters

    print(__doc__.split("\n\n")[0])
    print(machine())
    with tempfile.TemporaryDirectory(prefix="copilote-bench-") as tmp:
        path = Path(tmp) / "dashboard.db"
        counts = build(path)
        print(", ".join(f"{n:,} {t}" for t, n in counts.items()))
        settings = Settings(
            database_url=f"sqlite:///{path}",
            definitions_dir=ROOT / "definitions",
            scheduler=False,
            mail_dir=path.parent / "mail",
            secret_key="bench",
        )
        c = Copilote(settings, FixedClock(NOW))  # migrated: the overdue_daily table
        engine = c.engine

        def count_again() -> int:
            with engine.db.begin() as conn:
                conn.execute(sa.delete(tables.overdue_daily))
            return record_overdue_daily(engine, NOW)

        client = TestClient(c.app(), base_url="http://127.0.0.1:8000")
        login = client.get("/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/login",
            data={"email": "agence@ars.example", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )

        def export(kind: str) -> int:
            response = client.get(f"/dashboard/export.{kind}")
            if response.status_code != 200:
                raise RuntimeError(f"export answered {response.status_code}")
            return len(response.content)

        show("chart_data, no filter", timed(lambda: chart_data(engine, TODAY, Filters())))
        show(
            "chart_data, territory filter",
            timed(lambda: chart_data(engine, TODAY, Filters(territory="Territoire 007"))),
        )
        show("record_overdue_daily (full count)", timed(count_again))
        show("GET /dashboard/export.csv (10,000 rows)", timed(lambda: export("csv")))
        show("GET /dashboard/export.xlsx (10,000 rows)", timed(lambda: export("xlsx")))
        tracemalloc.start()
        size = export("csv")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  CSV: {size:,} bytes; Python memory peak during the export {peak / 1e6:.1f} MB")
        c.db.dispose()


if __name__ == "__main__":
    main()
