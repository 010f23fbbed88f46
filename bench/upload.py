"""Streamed uploads: the peak memory of the service while it receives 10 MB and 100 MB files.

A ``copilote serve`` process (its own process, so its memory is its own) on a fresh SQLite
database, documents stored in the database (the default backend), the upload limit raised to
200 MB (``COPILOTE_UPLOAD_MAX_BYTES``). This process signs in as the pilot and streams each
file as multipart/form-data from a generator (64 KiB pieces: the client never holds the file
either); each file has different bytes, so nothing is deduplicated.

Figure: the service's peak resident memory during each upload (``VmHWM`` from
``/proc/<pid>/status``, reset before each upload through ``/proc/<pid>/clear_refs``) minus its
resident memory at rest just before; median of RUNS uploads per size. BASELINE: the same
measure while it serves the documents page (no upload), same runs. Flat memory means the 100
MB figure is close to the 10 MB one, and both far below the file size.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx2 as httpx
from _common import ROOT, machine

from service import Copilote, Settings
from workflow.engine import NewProject, PartnerIn

RUNS = 3
SIZES_MB = (10, 100)
PIECE = 64 * 1024
PILOT, PASSWORD = "pilote@bench.example", "bench password 1"
BOUNDARY = "copilote-bench-boundary"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


def body(size: int, seed: int, csrf: str) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bench-{seed}.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n'
    ).encode()
    block = hashlib.sha256(str(seed).encode()).digest() * (PIECE // 32)
    sent = 9
    while sent < size:
        piece = block[: min(PIECE, size - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="copilote-bench-"))
    url = f"sqlite:///{work / 'upload.db'}"
    c = Copilote(Settings(database_url=url, definitions_dir=ROOT / "definitions", scheduler=False))
    c.accounts.create_user(PILOT, PASSWORD, role="pilot", name="Pia")
    pid = c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Bench",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("DD", PILOT, "Pia", ("pilot",)),
        )
    )
    c.db.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOTE_")}
    env.update(
        COPILOTE_DATABASE_URL=url,
        COPILOTE_PORT=str(port),
        COPILOTE_SCHEDULER="false",
        COPILOTE_SECRET_KEY="bench-secret",
        COPILOTE_UPLOAD_MAX_BYTES=str(200_000_000),
    )
    log = (work / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "copilote"), "serve"], env=env, cwd=work, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        page = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"email": PILOT, "password": PASSWORD, "csrf_token": csrf})
        docs = f"/projects/{pid}/documents"
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(docs).text).group(1)  # type: ignore[union-attr]

        def measure(action: object) -> float:
            rest = status_kb(server.pid, "VmRSS")
            reset_peak(server.pid)
            action()  # type: ignore[operator]
            return (status_kb(server.pid, "VmHWM") - rest) / 1024

        print(f"bench/upload.py: {machine()}; service process {server.pid}")
        print(f"service at rest: {status_kb(server.pid, 'VmRSS') / 1024:.1f} MB resident")
        baseline = [measure(lambda: client.get(docs)) for _ in range(RUNS)]
        print(
            "BASELINE (documents page, no upload): peak above rest median "
            f"{statistics.median(baseline):.1f} MB (runs {', '.join(f'{p:.1f}' for p in baseline)})"
        )
        seed = 0
        for size_mb in SIZES_MB:
            peaks, seconds = [], []
            for _ in range(RUNS):
                seed += 1
                size = size_mb * 1_000_000

                def send(size: int = size, seed: int = seed) -> None:
                    answer = client.post(
                        docs,
                        content=body(size, seed, csrf),
                        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                    )
                    if answer.status_code != 303:
                        raise RuntimeError(
                            f"upload refused: {answer.status_code} {answer.text[:300]}"
                        )

                started = time.perf_counter()
                peaks.append(measure(send))
                seconds.append(time.perf_counter() - started)
            print(
                f"{size_mb:>4} MB upload: peak above rest median {statistics.median(peaks):.1f} MB"
                f" (runs {', '.join(f'{p:.1f}' for p in peaks)}), "
                f"{size_mb / statistics.median(seconds):.1f} MB/s"
            )
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
