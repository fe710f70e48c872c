"""Start the dashboard on a free loopback port, stop it with everything it spawned, and launch Chromium.

Shared by the real-browser tests and the first-chart benchmark. The server runs `streamlit run app.py`
in its own process group, so stopping it also ends the training workers it started. Nothing here
imports Streamlit or Playwright at module level.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tieviz.system.browser import chromium_path

ROOT = Path(__file__).resolve().parents[2]

# Debian's Chromium without a sandbox, GPU, first-run screens or anything that reaches the network.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def launch_chromium(playwright: Any, executable: str | None = None) -> Any:
    """A headless Playwright Browser on the system Chromium (Playwright may not download its own)."""
    executable = executable or chromium_path()
    if executable is None:
        raise FileNotFoundError("no Chromium found; install Debian's chromium package or set BROWSER_PATH")
    return playwright.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_ARGS))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dashboard:
    """A running `streamlit run app.py`: its address, data folder, process and log file."""

    url: str
    data: Path
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_dashboard(
    data: Path | None,
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
    cwd: Path | None = None,
) -> Dashboard:
    """Starts the dashboard on a data folder and returns once /_stcore/health answers "ok".

    `env` adds to the environment (TIEVIZ_DATA is set from `data`); the server's output goes to `log_path`.
    With `data` None, TIEVIZ_DATA is left unset, as the README starts it: the data folder is ./data in
    `cwd` (the repository by default; elsewhere the shipped .streamlit settings are linked in).
    Raises RuntimeError with the log's tail when the server exits or does not answer within `timeout`.
    """
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cwd = Path(cwd) if cwd is not None else ROOT
    if cwd != ROOT and not (cwd / ".streamlit").exists():
        (cwd / ".streamlit").symlink_to(ROOT / ".streamlit", target_is_directory=True)
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    full_env = {k: v for k, v in os.environ.items() if k != "TIEVIZ_DATA"} | (env or {})
    if data is not None:
        full_env["TIEVIZ_DATA"] = str(data)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    folder = Path(data) if data is not None else cwd / "data"
    server = Dashboard(f"http://127.0.0.1:{port}", folder, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_dashboard(server)
    raise RuntimeError(f"the dashboard did not answer within {timeout:.0f} s:\n{server.log_tail()}")


def stop_dashboard(server: Dashboard, grace: float = 10.0) -> None:
    """Ends the server's whole process group (workers included): SIGTERM, then SIGKILL after `grace` s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    with contextlib.suppress(ProcessLookupError):  # workers that outlived the server's own exit
        os.killpg(server.process.pid, signal.SIGKILL)
