"""How long a visitor waits for the Overview's first chart, in a real Chromium, with a cached experiment.

Run: .venv/bin/python benchmarks/bench_first_chart.py [--data DIR] [--reps 5] [--cpus 2]
Target (from the issue, on a 2-core CPU): a new visitor on a running server sees the first chart within 3 s
(judged on the median of --reps visits).

Each visit opens a fresh browser context (no cookies, no HTTP cache: a new visitor) and times from the
start of navigation to the first `.js-plotly-plot` drawn in the main area. "Cold" is the first visit after
the server started (that visitor's run also starts the background import of torch); "warm" visits come
after one unmeasured visit, once the server has gone idle. "chart sent" is when the chart's data arrived
over the websocket: the rest of the wait is the browser loading Streamlit's and Plotly's JavaScript and
drawing. The browser runs on the same CPUs as the server, so a loaded machine makes every figure worse;
--cpus N pins the server and browser to N CPUs to imitate a small machine on a bigger one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from tieviz.testing.server import ROOT, launch_chromium, start_dashboard, stop_dashboard  # noqa: E402

TARGET_S = 3.0
VIEWPORT = {"width": 1440, "height": 1000}
# The first Plotly chart drawn in the main area (an SVG with a size), by its container's key; null before.
FIRST_CHART = """() => {
    for (const el of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')) {
        if (!el.querySelector('svg.main-svg') || el.getBoundingClientRect().height === 0) continue;
        const box = el.closest('[class*="st-key-chart-"]');
        return box ? [...box.classList].find(c => c.startsWith('st-key-chart-')).slice(13) : 'unnamed';
    }
    return null;
}"""
EXPERIMENT_CHART = (
    ".st-key-chart-bias_over_training_lin_cos"  # only drawn when the Overview shows an experiment
)


@dataclass(frozen=True)
class Visit:
    """Seconds from navigation start to: the page title shown, the chart's data received, the chart drawn."""

    title_s: float
    sent_s: float | None
    chart_s: float
    chart: str


def visit(context, url: str, timeout_s: float = 120.0) -> Visit:
    page = context.new_page()
    sent: list[float] = []

    def watch(socket) -> None:
        def frame(payload) -> None:
            if not sent and isinstance(payload, bytes) and b'"layout"' in payload:  # a Plotly spec
                sent.append(time.perf_counter())

        socket.on("framereceived", frame)

    page.on("websocket", watch)
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.locator("h1").first.wait_for(timeout=timeout_s * 1000)
    title = time.perf_counter() - start
    chart = page.wait_for_function(FIRST_CHART, timeout=timeout_s * 1000, polling="raf").json_value()
    drawn = time.perf_counter() - start
    if page.locator(EXPERIMENT_CHART).count() == 0:
        raise RuntimeError(f"the Overview shows no experiment (first chart: {chart}); check the data folder")
    page.close()
    return Visit(title, sent[0] - start if sent else None, drawn, chart)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, limit_s: float = 60.0) -> None:
    """Waits until the server uses under 5% of a CPU for a second (the background torch import is over)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            before = cpu_seconds(pid)
            time.sleep(1.0)
            if cpu_seconds(pid) - before < 0.05:
                return
        except (OSError, IndexError, ValueError):  # no /proc: just give it a while
            time.sleep(10)
            return


def prepare(data: Path, preset: str) -> None:
    """Trains `preset` into <data>/runs unless an experiment is already there."""
    experiments = data / "runs" / "experiments"
    if experiments.is_dir() and any(experiments.glob("*.json")):
        print(f"using the cached experiment(s) in {data}")
        return
    print(f"training the {preset} preset into {data} once (python -m tieviz experiment) ...", flush=True)
    start = time.perf_counter()
    command = [sys.executable, "-m", "tieviz", "experiment", "--preset", preset, "--device", "cpu"]
    command += ["--out", str(data / "bench-experiment"), "--runs-dir", str(data / "runs"), "--quiet"]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"  trained in {time.perf_counter() - start:.0f} s")


def summary(label: str, visits: list[Visit], verdict: bool = False) -> None:
    charts = [v.chart_s for v in visits]
    sent = [v.sent_s for v in visits if v.sent_s is not None]
    line = f"  {label:<38} median {statistics.median(charts):5.2f} s   max {max(charts):5.2f} s"
    if verdict:
        passed = statistics.median(charts) < TARGET_S
        line += f"   {'PASS' if passed else 'FAIL'} (target: median < {TARGET_S:g} s)"
    print(line)
    titles = statistics.median(v.title_s for v in visits)
    sent_text = f"{statistics.median(sent):5.2f} s" if sent else "  n/a"
    print(f"  {'':<38} title shown {titles:5.2f} s, chart data received {sent_text}  (medians)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, help="data folder with a trained experiment (default: train one)"
    )
    parser.add_argument("--preset", default="toy", help="preset to train when --data has none (default toy)")
    parser.add_argument("--reps", type=int, default=5, help="warm visits (default 5)")
    parser.add_argument("--cold-reps", type=int, default=3, help="server starts, one visit each (default 3)")
    parser.add_argument("--cpus", type=int, help="pin this benchmark, its server and browser to N CPUs")
    args = parser.parse_args()

    if args.cpus:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cpus])
    with tempfile.TemporaryDirectory(prefix="tieviz-bench-") as tmp:
        data = args.data or Path(tmp)
        prepare(data, args.preset)
        logs = Path(tmp) / "logs"
        env = {"TIEVIZ_TORCH_THREADS": "1"}
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {len(os.sched_getaffinity(0))} CPUs usable, load average {load} (1, 5, 15 min)")

        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            cold, starts = [], []
            for rep in range(args.cold_reps):
                start = time.perf_counter()
                server = start_dashboard(data, logs / f"cold-{rep}.log", env)
                starts.append(time.perf_counter() - start)
                try:
                    context = browser.new_context(viewport=VIEWPORT)
                    cold.append(visit(context, server.url))
                    context.close()
                finally:
                    stop_dashboard(server)

            server = start_dashboard(data, logs / "warm.log", env)
            try:
                context = browser.new_context(viewport=VIEWPORT)
                visit(context, server.url)  # the first visitor pays for the imports
                context.close()
                wait_idle(server.process.pid)
                warm = []
                for _ in range(args.reps):
                    context = browser.new_context(viewport=VIEWPORT)
                    warm.append(visit(context, server.url))
                    context.close()
                context = browser.new_context(viewport=VIEWPORT)
                visit(context, server.url)
                returning = [visit(context, server.url) for _ in range(3)]
                context.close()
            finally:
                stop_dashboard(server)
            browser.close()

    firsts = sorted({v.chart for v in [*cold, *warm, *returning]})
    print(f"first Overview chart drawn ({', '.join(firsts)}) in headless Chromium, from navigation start")
    print(f"  server start to healthy: median {statistics.median(starts):.1f} s (not counted below)")
    summary(f"cold server, first visitor (n={len(cold)})", cold)
    summary(f"warm server, new visitor (n={len(warm)})", warm, verdict=True)
    summary(f"warm server, returning browser (n={len(returning)})", returning)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
