"""Unattended benchmark runs as phases: each phase in its own process, under one deadline.

An accelerator slot is short and comes rarely, so a run must bring back whatever it measured
even when one part crashes, hangs or runs out of time: each phase is a subprocess with its own
timeout (never past the run's overall deadline), a phase that fails or hangs is recorded and
the next one runs, and `results.json` is rewritten after every phase. A phase reports by
calling `report(...)` as often as it likes (the latest report wins), so a phase killed at its
timeout still leaves the figures it had reached. Everything a run writes stays in one folder of
three files: results.json, phases.log (every phase's output) and summary.txt.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

RESULT_ENV = "GENTOOL_PHASE_RESULT"


def report(result: dict) -> None:
    """Inside a phase: record its figures so far (JSON-serialisable; a `summary` string goes
    into the run's table). Outside a runner it prints them."""
    target = os.environ.get(RESULT_ENV)
    if not target:
        print(json.dumps(result, indent=1, default=str), flush=True)
        return
    partial = Path(target + ".tmp")
    partial.write_text(json.dumps(result, default=str))
    partial.replace(target)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class PhaseRunner:
    """Runs phases in order against one deadline, keeping `results.json` current."""

    def __init__(self, out: Path, deadline_s: float, title: str, meta: dict | None = None):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.deadline = time.monotonic() + deadline_s
        self.log_path = self.out / "phases.log"
        self.log_path.write_text("")
        self.results = {"title": title, "started_utc": _now(), "deadline_s": deadline_s,
                        **(meta or {}), "phases": {}}
        self._save()

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name: str, argv: Sequence[str], timeout_s: float,
            env: dict[str, str] | None = None) -> dict:
        """Run one phase; returns its record (status ok / failed / timeout / skipped)."""
        left = self.seconds_left()
        if left < 5:
            record = {"status": "skipped", "why": "the run's deadline had passed"}
            return self._record(name, record)
        timeout = min(timeout_s, left)
        with tempfile.TemporaryDirectory() as scratch:
            result_file = Path(scratch) / "result.json"
            child_env = {**os.environ, **(env or {}), RESULT_ENV: str(result_file),
                         "PYTHONUNBUFFERED": "1"}
            started = time.monotonic()
            with open(self.log_path, "a") as log:
                log.write(f"\n===== {name} (timeout {timeout:.0f} s): {' '.join(argv)}\n")
                log.flush()
                offset = log.tell()
                process = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT,
                                           env=child_env, start_new_session=True)
                try:
                    returncode = process.wait(timeout=timeout)
                    status = "ok" if returncode == 0 else "failed"
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    returncode, status = None, "timeout"
            seconds = time.monotonic() - started
            result = json.loads(result_file.read_text()) if result_file.is_file() else {}
        record = {"status": status, "seconds": round(seconds, 1), "returncode": returncode,
                  "timeout_s": round(timeout), "result": result}
        if status != "ok":
            record["output_tail"] = self._tail(offset)
        return self._record(name, record)

    def summary(self) -> str:
        rows = [("phase", "status", "seconds", "figures")]
        for name, record in self.results["phases"].items():
            figures = record.get("result", {}).get("summary", "")
            if record["status"] != "ok" and not figures:
                figures = (record.get("why") or record.get("output_tail", "").strip()
                           .splitlines()[-1:] or [""])[0][:110]
            rows.append((name, record["status"], str(record.get("seconds", "")), figures))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]
                 for row in rows]
        return "\n".join(lines)

    def finish(self) -> str:
        self.results["finished_utc"] = _now()
        self._save()
        table = self.summary()
        (self.out / "summary.txt").write_text(table + "\n")
        print(table, flush=True)
        return table

    def _record(self, name: str, record: dict) -> dict:
        self.results["phases"][name] = record
        self._save()
        print(f"[{name}] {record['status']} {record.get('seconds', '')} s "
              f"{record.get('result', {}).get('summary', '')}", file=sys.stderr, flush=True)
        return record

    def _tail(self, offset: int, lines: int = 15) -> str:
        with open(self.log_path) as log:
            log.seek(offset)
            return "\n".join(log.read().splitlines()[-lines:])

    def _save(self) -> None:
        partial = self.out / "results.json.tmp"
        partial.write_text(json.dumps(self.results, indent=1, default=str))
        partial.replace(self.out / "results.json")
