"""Definition validation time against the number of phases (issue 10, finding 4): a file with
eight times the phases should take about eight times as long (linear), not 64 (quadratic).

Prints the median of several runs at 500 and 4,000 phases and their ratio; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import MINI, machine

from workflow.loader import parse_definition

TEXT = MINI.read_text(encoding="utf-8")


def with_phases(count: int) -> str:
    extra = "".join(f"  - {{key: p{i}, label: P{i}}}\n" for i in range(count))
    moves = "".join(
        f"  - {{trigger: t{i}, label: T{i}, label_en: T{i}, source: p{i}, dest: deploiement}}\n"
        for i in range(count)
    )
    reach = "  - {trigger: go_p0, label: Go, label_en: Go, source: cadrage, dest: p0}\n" + "".join(
        f"  - {{trigger: go_p{i + 1}, label: Go, label_en: Go, source: p{i}, dest: p{i + 1}}}\n"
        for i in range(count - 1)
    )
    return TEXT.replace("initial: cadrage", extra.rstrip("\n") + "\ninitial: cadrage", 1).replace(
        "transitions:\n", "transitions:\n" + moves + reach, 1
    )


def seconds(text: str, count: int) -> float:
    started = time.perf_counter()
    phases = len(parse_definition(text, "prog.yaml").phases)
    elapsed = time.perf_counter() - started
    if phases != 4 + count:
        sys.exit(f"expected {4 + count} phases, parsed {phases}")
    return elapsed


def main() -> None:
    runs = 5
    texts = {count: with_phases(count) for count in (500, 4_000)}
    seconds(texts[500], 500)  # warm-up
    medians = {
        count: statistics.median(seconds(text, count) for _ in range(runs))
        for count, text in texts.items()
    }
    print(f"bench/validation.py  ({machine()}; median of {runs} runs)")
    for count, median in medians.items():
        print(f"  {count:>5} phases   median {median * 1000:8.1f} ms")
    ratio = medians[4_000] / medians[500]
    print(f"  ratio 4,000 / 500 phases: {ratio:.1f} (linear about 8, quadratic about 64)")


if __name__ == "__main__":
    main()
