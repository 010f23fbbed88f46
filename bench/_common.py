"""Shared helpers of the benchmark scripts (not a test: nothing here asserts a time)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workflow.loader import DefinitionRegistry, load_definition, load_directory  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
MINI = ROOT / "tests" / "fixtures" / "mini.yaml"
POSTGRES_URL = os.environ.get(
    "COPILOTE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/copilote_bench"
)


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def registry(with_mini: bool = True) -> DefinitionRegistry:
    reg = load_directory(ROOT / "definitions")
    if with_mini:
        reg.add(load_definition(MINI))
    return reg


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary(values: list[float]) -> tuple[float, float, float, float]:
    """median, p95, min, max."""
    return statistics.median(values), pct(values, 95), min(values), max(values)


def spread(values: list[float]) -> str:
    """Noise across runs: (max - min) / median."""
    med = statistics.median(values)
    return f"{(max(values) - min(values)) / med * 100:.1f}%" if med else "n/a"


def rss_mb() -> float:
    """Current resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    return f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}, {sys.platform}"


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.start
