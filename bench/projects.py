"""Figure 2: 10,000 projects across the four shipped definitions.

Creation time (Engine.create_project, one transaction each, SQLite WAL) and the memory of the
engine process holding the shared machines: tracemalloc (Python heap) and RSS, after 0
projects, after 10,000, and after advancing a sample (suspend + resume, through the shared
machine). The machines are built once per definition version, so memory must not grow with
the number of projects.

BASELINE (same process, same run): the naive design, one ``transitions`` machine per project
(same states and transitions as workflow.lifecycle.Lifecycle, the project as its model).
1,000 are built and measured and the figure is EXTRAPOLATED linearly to 10,000.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import TypedDict

from _common import machine, paris, pct, registry, rss_mb, spread
from transitions import Machine

from workflow.clock import FixedClock
from workflow.database import create_db_engine, migrate
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.lifecycle import ABANDONED, SUSPENDED, Lifecycle

PROJECTS = 10_000
BATCHES = 5  # creation timed in 5 batches of 2,000 (5 runs)
SAMPLE = 500  # projects advanced after creation (suspend, then resume)
BASELINE_MACHINES = 1_000
BASELINE_RUNS = 5
SHIPPED = ("acia", "cooperative", "aceso", "unapei")


def mb(n: float) -> str:
    return f"{n / 2**20:7.2f} MB"


def heap() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def create(engine: Engine, i: int) -> int:
    definition_id = SHIPPED[i % 4]
    return engine.create_project(
        NewProject(
            definition_id=definition_id,
            title=f"Projet {i}",
            territory="Hauts-de-France",
            start_date=date(2026, 5, 4),
            variant=("axe_1" if i % 8 == 0 else "axe_2") if definition_id == "acia" else None,
            pilot=PartnerIn(f"Structure pilote {i}", f"pilote{i}@exemple.fr", f"Pilote {i}"),
            convention_start=date(2026, 5, 4) if definition_id == "cooperative" else None,
            funding_cents=25_000_00 if definition_id == "cooperative" else None,
        )
    )


class PerProjectMachine:
    """The baseline model: a project carrying its own machine."""

    def __init__(self, project_id: int, lifecycle: Lifecycle) -> None:
        d = lifecycle.definition
        active = [p.key for p in d.phases if p.key not in lifecycle.terminal]
        spec = [
            {"trigger": t.trigger, "source": list(t.source), "dest": t.dest} for t in d.transitions
        ]
        spec.append({"trigger": "suspend", "source": active, "dest": SUSPENDED})
        spec.append({"trigger": "abandon", "source": [*active, SUSPENDED], "dest": ABANDONED})
        spec += [{"trigger": f"resume_to_{p}", "source": SUSPENDED, "dest": p} for p in active]
        self.id = project_id
        self.machine = Machine(
            model=self,
            states=[p.key for p in d.phases] + [SUSPENDED, ABANDONED],
            transitions=spec,
            initial=d.initial,
            auto_transitions=False,
        )


def baseline(lifecycles: list[Lifecycle]) -> tuple[list[float], list[float]]:
    """Bytes per project and seconds per machine, BASELINE_RUNS times."""
    per_project, per_build = [], []
    for _ in range(BASELINE_RUNS):
        before = heap()
        t0 = time.perf_counter()
        kept = [PerProjectMachine(i, lifecycles[i % 4]) for i in range(BASELINE_MACHINES)]
        elapsed = time.perf_counter() - t0
        per_project.append((heap() - before) / BASELINE_MACHINES)
        per_build.append(elapsed / BASELINE_MACHINES)
        del kept
        gc.collect()
    return per_project, per_build


def build(path: Path) -> tuple[Engine, list[Lifecycle]]:
    db = create_db_engine(f"sqlite:///{path}")
    migrate(db)
    engine = Engine(db, registry(with_mini=False), FixedClock(paris(2026, 5, 4, 8, 0)))
    lifecycles = [engine.lifecycle(d, 1) for d in SHIPPED]  # the shared machines, built once
    # warm-up in a throw-away database: statement caches, template loading, the pool
    warm_db = create_db_engine(f"sqlite:///{path.with_suffix('.warm.db')}")
    migrate(warm_db)
    warm = Engine(warm_db, engine.registry, engine.clock)
    warm._lifecycles = engine._lifecycles
    for i in range(40):
        warm.advance(create(warm, i), "suspend", actor="bench", comment="pause")
    warm_db.dispose()
    with db.connect() as conn:  # open the main engine's pooled connection, no project in it
        conn.exec_driver_sql("SELECT 1")
    return engine, lifecycles


class Run(TypedDict):
    """One run's figures: heap bytes (0 untraced) and RSS MB after 0 projects, after all of
    them, after the advances; each create_project's seconds, each batch's projects/s, and each
    sampled advance's seconds."""

    heap0: int
    heap1: int
    heap2: int
    rss0: float
    rss1: float
    rss2: float
    per_call: list[float]
    batch_rates: list[float]
    adv: list[float]


def run(engine: Engine, traced: bool) -> Run:
    """Create PROJECTS projects in BATCHES timed batches, then advance a sample."""
    heap0, rss0 = (heap() if traced else 0), rss_mb()
    per_call: list[float] = []
    batch_rates: list[float] = []
    ids: list[int] = []
    per_batch = PROJECTS // BATCHES
    for b in range(BATCHES):
        t_batch = time.perf_counter()
        for i in range(b * per_batch, (b + 1) * per_batch):
            t0 = time.perf_counter()
            ids.append(create(engine, i))
            per_call.append(time.perf_counter() - t0)
        batch_rates.append(per_batch / (time.perf_counter() - t_batch))
    heap1, rss1 = (heap() if traced else 0), rss_mb()
    adv: list[float] = []
    for pid in ids[:: PROJECTS // SAMPLE]:
        t0 = time.perf_counter()
        engine.advance(pid, "suspend", actor="bench", comment="pause estivale")
        engine.advance(pid, "resume", actor="bench")
        adv.append((time.perf_counter() - t0) / 2)
    heap2, rss2 = (heap() if traced else 0), rss_mb()
    return Run(
        heap0=heap0,
        heap1=heap1,
        heap2=heap2,
        rss0=rss0,
        rss1=rss1,
        rss2=rss2,
        per_call=per_call,
        batch_rates=batch_rates,
        adv=adv,
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="copilote-bench-"))
    # 1. timing, tracemalloc off (it slows create_project about 4x): RSS only
    engine, lifecycles = build(tmp / "timed.db")
    timed = run(engine, traced=False)
    engine.db.dispose()
    # 2. memory, tracemalloc on from before the engine is built: a fresh engine and database
    gc.collect()
    tracemalloc.start()
    engine, lifecycles = build(tmp / "traced.db")
    traced = run(engine, traced=True)
    base_bytes, base_build = baseline(lifecycles)
    tracemalloc.stop()

    per_call, batch_rates, adv = timed["per_call"], timed["batch_rates"], timed["adv"]
    per_batch = PROJECTS // BATCHES
    print(f"bench/projects.py  ({machine()}, SQLite WAL file database)")
    print(
        f"run 1 (timing, tracemalloc off): {PROJECTS} projects ({', '.join(SHIPPED)} in turn)"
        f" in {BATCHES} batches of {per_batch}"
    )
    print(
        f"  create_project median {statistics.median(per_call) * 1e3:.2f} ms  p95 {pct(per_call, 95) * 1e3:.2f} ms"
        f"   batch rates {min(batch_rates):.0f}..{max(batch_rates):.0f} projects/s"
        f" (median {statistics.median(batch_rates):.0f}/s, spread {spread(batch_rates)});"
        f" total {sum(per_call):.1f} s"
    )
    print(
        f"  advance (suspend, resume) on {len(adv)} sampled projects: median {statistics.median(adv) * 1e3:.2f} ms"
        f"  p95 {pct(adv, 95) * 1e3:.2f} ms"
    )
    print(
        f"  RSS: 0 projects {timed['rss0']:.2f} MB, {PROJECTS} projects {timed['rss1']:.2f} MB,"
        f" after advances {timed['rss2']:.2f} MB -> growth {timed['rss2'] - timed['rss0']:.2f} MB"
    )
    h0, h1, h2 = traced["heap0"], traced["heap1"], traced["heap2"]
    r0, r1, r2 = traced["rss0"], traced["rss1"], traced["rss2"]
    print(
        f"run 2 (memory, tracemalloc on, fresh engine and database; shared machines: {len(engine._lifecycles)})"
    )
    print("                                    tracemalloc heap       RSS")
    print(f"  after 0 projects                   {mb(h0)}   {r0:8.2f} MB")
    print(f"  after {PROJECTS} projects              {mb(h1)}   {r1:8.2f} MB")
    print(f"  after advancing {len(traced['adv'])} of them        {mb(h2)}   {r2:8.2f} MB")
    worst = max(h2 - h0, (r2 - r0) * 2**20, (timed["rss2"] - timed["rss0"]) * 2**20)
    print(
        f"  growth 0 -> {PROJECTS} (+ advances): heap {mb(h2 - h0)}, RSS {r2 - r0:.2f} MB"
        f"  (target < 20 MB: {'met' if worst < 20 * 2**20 else 'MISSED'});"
        f" heap per project {(h1 - h0) / PROJECTS:.0f} bytes (the benchmark's own id/timing lists included)"
    )
    b_bytes, b_build = statistics.median(base_bytes), statistics.median(base_build)
    print(
        f"BASELINE one transitions.Machine per project: {BASELINE_MACHINES} built x {BASELINE_RUNS} runs,"
        f" median {b_bytes / 1024:.1f} KB/project (runs {min(base_bytes) / 1024:.1f}..{max(base_bytes) / 1024:.1f} KB),"
        f" {b_build * 1e6:.0f} us to build each (under tracemalloc)"
    )
    growth = max(h1 - h0, 1)
    print(
        f"  EXTRAPOLATED (linear, x{PROJECTS // BASELINE_MACHINES}) to {PROJECTS} projects: {mb(b_bytes * PROJECTS)}"
        f"  vs shared machines' growth {mb(growth)}  -> ratio {b_bytes * PROJECTS / growth:.0f}x"
    )


if __name__ == "__main__":
    main()
