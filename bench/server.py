"""The portal under gunicorn, signing in over HTTP, and the workers' memory."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving ``wsgi:app`` (sync workers, no access log) on 127.0.0.1."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{self.port}",
            f"--chdir={ROOT}",
            "--worker-class=sync",
            "--timeout=120",
            "--log-level=warning",
            "wsgi:app",
        ]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 60) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}"
                )
            if len(self.worker_pids()) == self.workers:
                try:
                    status, _, _ = request(self.port, "GET", "/hello")
                except OSError:
                    status = 0
                if status == 200:
                    return
            time.sleep(0.2)
        raise ServerError(f"gunicorn did not answer /hello within {wait_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return children(self.process.pid)

    def wait_idle(self, timeout_s: float = 120) -> float:
        """Wait until no worker is still busy with requests a load run left in flight (a sync
        worker finishes a request whose client has gone): their CPU time stops advancing for
        three samples in a row. Returns the seconds waited."""
        started = time.monotonic()
        last, calm = cpu_ticks(self.worker_pids()), 0
        while calm < 3 and time.monotonic() - started < timeout_s:
            time.sleep(0.1)
            now = cpu_ticks(self.worker_pids())
            calm = calm + 1 if now - last <= 1 else 0
            last = now
        return round(time.monotonic() - started, 2)

    def reset_peaks(self) -> bool:
        """Start each worker's peak memory (VmHWM) afresh; False where the kernel refuses."""
        ok = True
        for pid in self.worker_pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def peak_mb(self) -> float | None:
        """The largest VmHWM (peak resident memory) over the workers, in MB."""
        peaks = [p for p in (vm_hwm_kb(pid) for pid in self.worker_pids()) if p is not None]
        return round(max(peaks) / 1024, 1) if peaks else None


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


def cpu_ticks(pids: list[int]) -> int:
    """User and system CPU time of the processes, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total


def vm_hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def request(
    port: int, method: str, path: str, headers: dict | None = None, body: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request; the status, the headers (Set-Cookie joined) and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        out = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
        cookies = response.msg.get_all("Set-Cookie") or []
        if cookies:
            out["set-cookie"] = "\n".join(cookies)
        return response.status, out, data
    finally:
        conn.close()


class Browser:
    """A signed-in visitor: keeps the cookies the server sets."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _keep(self, headers: dict[str, str]) -> bool:
        raw = headers.get("set-cookie")
        if not raw:
            return False
        for line in raw.split("\n"):
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return True

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
        status, out, body = request(
            self.port, "GET", path, {"Cookie": self.cookie_header, **(headers or {})}
        )
        out["cookie-changed"] = "yes" if self._keep(out) else ""
        return status, out, body

    def sign_in(self, email: str, password: str) -> None:
        status, headers, body = self.get("/login")
        if status != 200:
            raise ServerError(f"GET /login answered {status}")
        match = CSRF.search(body.decode())
        form = {"email": email, "password": password}
        if match:
            form["csrf_token"] = match.group(1) or match.group(2)
        status, headers, body = request(
            self.port,
            "POST",
            "/login",
            {
                "Cookie": self.cookie_header,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            urlencode(form),
        )
        self._keep(headers)
        if status != 302:
            raise ServerError(f"signing in as {email} failed: POST /login answered {status}")


def process_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.update(extra)
    return env
