"""Figure (issue 4, section 7): API phase advances per second with 8 concurrent clients on
loopback, on the SQLite database of bench/dashboard.py (10,000 projects, 1,000,000
milestones).

The server is the real service in its own process: ``uvicorn --factory service:app`` on
127.0.0.1 (one process, as the README's first command runs it; scheduler off so that only
the advances are measured, access log off), on the SQLite file built by
``bench/dashboard.py``'s ``build``. A pilot account with an API token pilots 800 projects in
progress (its email put on their pilot partner rows).

Measured, alternating, ``ROUNDS`` rounds after a warm-up round:

1. API: 8 client threads (``httpx2.Client``, keep-alive), each with its own 100 projects,
   each sending ``ADVANCES`` ``POST /api/projects/{id}/advance`` in turn: ``suspend`` (with
   its comment) then ``resume``, on project after project. Every answer must be 200 with the
   expected phase. Each advance is the whole step: bearer token checked (hash lookup), the
   pilot's right on the project, the transaction (conditions, UPDATE guarded by the version,
   history, the COPIL and agency notices queued in the outbox), the JSON answer.
2. Ceiling: the same 8 clients and requests against ``bench/_bare_app.py`` served the same
   way: uvicorn and FastAPI with an endpoint that parses the step and answers, nothing behind
   it. On 2 cores, with the clients on the same machine, this is what HTTP alone allows.
3. BASELINE: ``Engine.advance`` called directly, in this process, one after the other, on
   another 100 projects of the same file (same suspend/resume steps, same notices): what the
   engine does without HTTP, threads or the authentication.

Prints calls per second per round, median and spread, the ratio API / baseline and the
ratio API / ceiling.
Nothing asserts a time. Runtime: about 3 minutes on 2 cores (1 minute building).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
from _common import ROOT, machine, spread
from dashboard import build

CLIENTS = 8
PER_CLIENT = 100  # projects each client owns
ADVANCES = 120  # advances per client per round
ROUNDS = 5
PILOT = "pilote@bench.example"
PASSWORD = "bench password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_progress(path: Path, count: int) -> list[int]:
    """Projects that can be suspended: in a phase with exits, not suspended or closed."""
    from _common import registry

    reg = registry(with_mini=False)
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT id, definition_id, definition_version, phase FROM project"
    ).fetchall()
    con.close()
    chosen = []
    for pid, did, version, phase in rows:
        d = reg.get(did, version)
        if phase not in d.terminal and phase not in ("suspendu", "abandonne"):
            chosen.append(pid)
        if len(chosen) == count:
            break
    return chosen


def make_pilot(path: Path, projects: list[int]) -> str:
    """A pilot account (email on the pilot partner rows of ``projects``) and its API token."""
    from service import Copilote, Settings

    c = Copilote(
        Settings(database_url=f"sqlite:///{path}", scheduler=False, mail_dir=path.parent / "m"),
        migrate_schema=False,
    )
    user = c.accounts.create_user(PILOT, PASSWORD, role="pilot", name="Pilote bench")
    token = c.accounts.create_token(user.id, "bench")
    c.db.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    con.executemany(
        "UPDATE partner SET email = ? WHERE project_id = ? AND roles LIKE '%\"pilot\"%'",
        [(PILOT, pid) for pid in projects],
    )
    con.close()
    return token


class Server:
    """``uvicorn --factory service:app`` in its own process, on a free loopback port."""

    def __init__(self, path: Path, target: str = "service:app", factory: bool = True) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "COPILOTE_DATABASE_URL": f"sqlite:///{path}",
            "COPILOTE_SCHEDULER": "false",
            "COPILOTE_DEVELOPMENT": "true",  # the public default secret, on loopback
            "COPILOTE_MAIL_DIR": str(path.parent / "mail"),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                *(["--factory"] if factory else ["--app-dir", str(ROOT / "bench")]),
                target,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)  # polling a child process's start-up, not a measured wait

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class Clients:
    """8 threads, each with its keep-alive client and its own projects."""

    def __init__(self, url: str, token: str, projects: list[int]) -> None:
        headers = {"authorization": f"Bearer {token}"}
        self.clients = [httpx.Client(base_url=url, headers=headers) for _ in range(CLIENTS)]
        self.owned = [projects[i * PER_CLIENT : (i + 1) * PER_CLIENT] for i in range(CLIENTS)]
        self.suspended: set[int] = set()

    def run(self, work: Callable[[httpx.Client, list[int]], None]) -> float:
        """Run ``work`` on every client at once; seconds from the start to the last end."""
        errors: list[BaseException] = []
        start = threading.Barrier(CLIENTS + 1)

        def one(i: int) -> None:
            start.wait()
            try:
                work(self.clients[i], self.owned[i])
            except BaseException as exc:  # reported after the round
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if errors:
            raise errors[0]
        return elapsed

    def advances(self, client: httpx.Client, projects: list[int]) -> None:
        for k in range(ADVANCES):
            pid = projects[(k // 2) % len(projects)]
            step = self._step(pid)
            answer = client.post(f"/api/projects/{pid}/advance", json=step)
            if answer.status_code != 200:
                raise RuntimeError(f"{pid} {step}: {answer.status_code} {answer.text}")
            self._flip(pid)

    def bare(self, client: httpx.Client, projects: list[int]) -> None:
        """The same requests to the bare app (it keeps no state: the steps alternate anyway)."""
        for k in range(ADVANCES):
            pid = projects[(k // 2) % len(projects)]
            step = self._step(pid) if k % 2 else {"trigger": "resume"}
            answer = client.post(f"/api/projects/{pid}/advance", json=step)
            if answer.status_code != 200:
                raise RuntimeError(f"bare: {answer.status_code} {answer.text}")

    def _step(self, pid: int) -> dict[str, str]:
        if pid in self.suspended:
            return {"trigger": "resume"}
        return {"trigger": "suspend", "comment": "attente du financement (bench)"}

    def _flip(self, pid: int) -> None:
        # Each project belongs to one client thread: no two threads touch the same entry.
        if pid in self.suspended:
            self.suspended.discard(pid)
        else:
            self.suspended.add(pid)


class Direct:
    """The baseline: Engine.advance in this process, one call after the other."""

    def __init__(self, path: Path, projects: list[int]) -> None:
        from service import Copilote, Settings

        self.c = Copilote(
            Settings(database_url=f"sqlite:///{path}", scheduler=False, mail_dir=path.parent / "m"),
            migrate_schema=False,
        )
        self.projects = projects
        self.suspended: set[int] = set()

    def run(self) -> float:
        total = CLIENTS * ADVANCES
        t0 = time.perf_counter()
        for k in range(total):
            pid = self.projects[(k // 2) % len(self.projects)]
            if pid in self.suspended:
                self.c.engine.advance(pid, "resume", actor=PILOT)
                self.suspended.discard(pid)
            else:
                self.c.engine.advance(
                    pid, "suspend", actor=PILOT, comment="attente du financement (bench)"
                )
                self.suspended.add(pid)
        return time.perf_counter() - t0


def main() -> None:
    print(__doc__.split("\n\n")[0])
    print(machine())
    with tempfile.TemporaryDirectory(prefix="copilote-bench-") as tmp:
        path = Path(tmp) / "dashboard.db"
        t0 = time.perf_counter()
        counts = build(path)
        print(
            f"built in {time.perf_counter() - t0:.0f} s: "
            + ", ".join(f"{n:,} {t}" for t, n in counts.items())
        )
        projects = in_progress(path, CLIENTS * PER_CLIENT + PER_CLIENT)
        api_projects, direct_projects = projects[: CLIENTS * PER_CLIENT], projects[-PER_CLIENT:]
        token = make_pilot(path, api_projects)
        server, ceiling = Server(path), Server(path, "_bare_app:app", factory=False)
        try:
            clients = Clients(server.url, token, api_projects)
            bare = Clients(ceiling.url, token, api_projects)
            direct = Direct(path, direct_projects)
            n = CLIENTS * ADVANCES
            clients.run(clients.advances)  # warm-up
            bare.run(bare.bare)
            direct.run()
            api, top, base = [], [], []
            for r in range(ROUNDS):
                api.append(n / clients.run(clients.advances))
                top.append(n / bare.run(bare.bare))
                base.append(n / direct.run())
                print(
                    f"round {r + 1}: API advances {api[-1]:7.1f}/s   ceiling {top[-1]:7.1f}/s"
                    f"   BASELINE Engine.advance {base[-1]:7.1f}/s"
                )
        finally:
            server.stop()
            ceiling.stop()
        print(f"\n{n} calls a case a round, {ROUNDS} rounds, {CLIENTS} concurrent clients")
        for name, values in (
            ("API phase advances (8 clients)", api),
            ("ceiling: bare FastAPI endpoint (8 clients)", top),
            ("BASELINE Engine.advance (direct)", base),
        ):
            print(f"{name:44s} median {statistics.median(values):7.1f}/s  spread {spread(values)}")
        for label, against in (("baseline", base), ("ceiling", top)):
            ratios = [a / b for a, b in zip(api, against, strict=True)]
            print(
                f"ratio API / {label}: median {statistics.median(ratios):.3f}"
                f" (per round {', '.join(f'{x:.3f}' for x in ratios)})"
            )
        print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
