"""Driving load with wrk: one run per page, every response's status checked by a Lua hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk_report.lua")
INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk"


class LoadError(RuntimeError):
    pass


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if path is None:
        return "missing"
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else "?"


def run_wrk(
    url: str,
    *,
    cookie: str,
    seconds: int,
    connections: int,
    threads: int = 1,
    expect: int = 200,
    if_none_match: str | None = None,
    timeout_s: int = 30,
    authorization: str = "",
) -> dict:
    """Load ``url`` for ``seconds``; the summary the Lua ``done`` hook printed, as a dict."""
    path = wrk_path()
    if path is None:
        raise LoadError(INSTALL_HINT)
    env = {
        **os.environ,
        "BENCH_COOKIE": cookie,
        "BENCH_EXPECT": str(expect),
        "BENCH_IF_NONE_MATCH": if_none_match or "",
        "BENCH_AUTHORIZATION": authorization,
    }
    command = [
        path,
        f"--threads={max(1, min(threads, connections))}",
        f"--connections={connections}",
        f"--duration={max(1, int(seconds))}s",
        f"--timeout={timeout_s}s",
        f"--script={SCRIPT}",
        url,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + timeout_s + 30
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("BENCH_JSON "):
            result = json.loads(line.removeprefix("BENCH_JSON "))
            result["command"] = " ".join(command[:-2] + ["--script=bench/wrk_report.lua", url])
            return result
    raise LoadError(f"wrk printed no summary (exit {done.returncode}): {done.stdout} {done.stderr}")


def problems(result: dict) -> list[str]:
    """Why a wrk result does not measure the page (empty: it does)."""
    found = []
    errors = {k: v for k, v in result["errors"].items() if v}
    if errors:
        found.append("socket/status errors " + ", ".join(f"{k} {v}" for k, v in errors.items()))
    if result["unexpected_status"]:
        found.append(
            f"{result['unexpected_status']} responses were not {result['expected_status']}"
            f" (e.g. {result['last_unexpected_status']})"
        )
    if result["requests"] == 0:
        found.append("no request completed")
    return found
