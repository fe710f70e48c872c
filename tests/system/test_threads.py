"""Torch threads per training process: one for small models, never more than the free cores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tieviz.system.threads import SMALL_MODEL_PARAMS, choose_threads, free_cores

ROOT = Path(__file__).resolve().parents[2]


def _python(script: str, tmp_path: Path) -> str:
    """What `script` prints in a fresh process (torch's thread settings are per process)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_small_models_train_on_one_thread(monkeypatch):
    monkeypatch.delenv("TIEVIZ_TORCH_THREADS", raising=False)
    assert choose_threads(30_000, most=16, free=16) == 1


def test_large_models_take_the_free_cores_but_no_more(monkeypatch):
    monkeypatch.delenv("TIEVIZ_TORCH_THREADS", raising=False)
    big = SMALL_MODEL_PARAMS * 4
    assert choose_threads(big, most=8, free=3) == 3
    assert choose_threads(big, most=2, free=8) == 2  # a job worker's share is a ceiling


def test_free_cores_subtract_the_load_and_keep_one():
    assert free_cores(cores=8, load=2.2) == 6
    assert free_cores(cores=2, load=5.0) == 1


def test_the_host_setting_wins(monkeypatch):
    monkeypatch.setenv("TIEVIZ_TORCH_THREADS", "3")
    assert choose_threads(30_000, most=1, free=1) == 3


def test_an_experiment_sets_one_thread_for_a_toy_model(tmp_path):
    """The CLI and the workers both train through run_experiment: a process with torch's default of
    several threads trains a toy on one (two side by side on two cores were 27.9x slower than one)."""
    script = (
        "import torch; torch.set_num_threads(2)\n"
        "from tieviz.config import preset\n"
        "from tieviz.experiments.runner import run_experiment\n"
        "from tieviz.training.run_store import RunStore\n"
        "c = preset('toy', steps=3, batch_size=4, d_model=16, n_heads=2, toy_tokens=4000, "
        "device='cpu', seeds=1)\n"
        f"run_experiment(c, RunStore({str(tmp_path)!r}))\n"
        "print('threads', torch.get_num_threads())\n"
    )
    assert "threads 1" in _python(script, tmp_path)


def test_checkpoint_work_sets_torch_and_blas_threads_as_training_does(tmp_path):
    """A small checkpoint task runs on one torch thread and one BLAS thread in a worker whose share is two
    (a comparison beside a training on two cores must not oversubscribe them); both come back after."""
    script = (
        "import torch; torch.set_num_threads(2)\n"
        "from threadpoolctl import threadpool_info, threadpool_limits\n"
        "threadpool_limits(limits=2, user_api='blas')\n"
        "from pathlib import Path\n"
        "from tieviz.checkpoint_analysis import work\n"
        "from tieviz.jobs import checkpoint\n"
        "from tieviz.jobs.store import JobStore\n"
        "def blas(): return max(i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas')\n"
        "def task(data, out, task, progress): print('during', torch.get_num_threads(), blas())\n"
        "work.run_task = task\n"
        f"jobs = JobStore(Path({str(tmp_path)!r}) / 'jobs')\n"
        "state = jobs.create('k', {'task': 'text'}, 'alice', status='running', kind='checkpoint')\n"
        f"print(checkpoint.run_checkpoint_job(Path({str(tmp_path)!r}), jobs, state['id'])['status'])\n"
        "print('after', torch.get_num_threads(), blas())\n"
    )
    printed = _python(script, tmp_path)
    assert printed.split("\n")[:3] == ["during 1 1", "done", "after 2 2"], printed


def test_a_tasks_size_is_the_model_or_the_matrices_it_computes_with():
    from tieviz.jobs.checkpoint import task_params

    assert task_params({"task": "lens", "n_params": 124_000_000}) == 124_000_000
    assert task_params({"task": "compare", "vocab": 50_000, "d_tied": 768, "d_untied": 512}) == 64_000_000
    assert task_params({"task": "stage"}) == 0
