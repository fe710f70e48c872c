"""Checkpoint work as jobs: a comparison in a worker, its hard limits, and failures that end only the job."""

from __future__ import annotations

import os

import pytest

from tests.checkpoints.tiny import build_model, save_checkpoint, save_gpt2_with
from tests.jobs.helpers import settled, wait_for
from tieviz.jobs import LimitError, Limits


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A tiny tied GPT-2 and an untied Llama over the same 64-token vocabulary."""
    root = tmp_path_factory.mktemp("job-pair")
    tied = save_checkpoint(build_model("gpt2", True), root / "tied")
    untied = save_checkpoint(build_model("llama", False, seed=1), root / "untied")
    return tied, untied


def compare_task(pair, tokens=64) -> dict:
    tied, untied = pair
    sizes = {"tokens": tokens, "d_tied": 16, "d_untied": 16}
    return {"task": "compare", "a": str(tied), "b": str(untied)} | sizes


def test_a_comparison_runs_in_a_worker_and_its_result_is_read_back(tmp_path, managers, pair):
    from tieviz.checkpoint_analysis.pair import read_pair

    manager = managers(tmp_path, concurrency=1)
    job = manager.submit_checkpoint(compare_task(pair), "alice")
    assert job.kind == "checkpoint"
    done = wait_for(manager, job.id, settled)
    assert done.status == "done", done.error
    assert done.progress_fraction == 1.0
    result = read_pair(manager.result_dir(job.id))
    assert result.tokens == 64 and result.all_tokens
    assert set(result.scores) >= {"lin_cos_out", "lin_cos_in", "cka_out", "mknn_in"}
    assert result.verdict.status in ("agrees", "no clear effect", "disagrees")
    assert manager.jobs("alice") == []  # the Train page lists experiments only
    assert [j.id for j in manager.jobs("alice", kind=None)] == [job.id]
    again = manager.submit_checkpoint(compare_task(pair), "bob")  # the same request reuses the result
    assert again.id == job.id and again.status == "done"


def test_a_job_past_its_memory_limit_fails_with_one_line_and_the_manager_goes_on(tmp_path, managers, pair):
    import numpy as np

    rng = np.random.default_rng(0)  # 4,000 tokens: any k-NN needs far more than the 1 MiB allowed
    big = (
        save_gpt2_with(tmp_path / "big-tied", rng.normal(size=(4000, 8))),
        save_gpt2_with(tmp_path / "big-untied", rng.normal(size=(4000, 8)), rng.normal(size=(4000, 8))),
    )
    manager = managers(tmp_path, concurrency=1)
    state = manager.jobs_store.create(
        "ck-memory", compare_task(big, 4000), "alice", kind="checkpoint", hard_limits={"memory_bytes": 2**20}
    )
    failed = wait_for(manager, state["id"], settled)
    assert failed.status == "failed"
    assert "memory" in failed.error and "\n" not in failed.error, failed.error
    after = manager.submit_checkpoint(compare_task(pair, tokens=40), "alice")  # the queue still runs
    assert wait_for(manager, after.id, settled).status == "done"


class PanicException(BaseException):
    """What pyo3 raises when Rust code panics (a tokenizer's regex, say): not an Exception."""


def test_a_panic_in_the_task_is_a_failed_job_not_a_dead_worker(tmp_path, monkeypatch, pair):
    from tieviz.checkpoint_analysis import work
    from tieviz.jobs import JobManager
    from tieviz.jobs.store import HOST, process_start
    from tieviz.jobs.worker import run_job

    manager = JobManager(tmp_path, concurrency=0)  # queues only: the job runs here, in this process
    try:
        job = manager.submit_checkpoint(compare_task(pair), "alice")
        me = {"owner_pid": os.getpid(), "owner_host": HOST, "owner_started": process_start(os.getpid())}
        manager.jobs_store.update(job.id, lambda s: {**s, "status": "running", **me})  # claimed by this test

        def panic(*args, **kwargs):
            raise PanicException("called `Result::unwrap()` on an `Err` value")

        monkeypatch.setattr(work, "run_task", panic)
        assert run_job(str(tmp_path), job.id) == "failed"  # returned: the worker would live on
        failed = manager.get(job.id)
        assert failed.error == (
            "a library written in Rust crashed on this input (called `Result::unwrap()` on an `Err` value)"
        )
    finally:
        manager.shutdown()


def test_checkpoint_jobs_count_against_the_visitors_queue_limit(tmp_path, managers, pair):
    manager = managers(tmp_path, concurrency=0, limits=Limits(max_queued_per_visitor=1))
    manager.submit_checkpoint(compare_task(pair), "alice")
    with pytest.raises(LimitError, match="already has 1"):
        manager.submit_checkpoint(compare_task(pair, tokens=40), "alice")


def test_a_comparison_over_the_memory_budget_is_refused_before_it_queues(tmp_path, managers, pair):
    manager = managers(tmp_path, concurrency=0, limits=Limits(anon_max_memory_mb=1))
    task = compare_task(pair) | {"tokens": 50_000, "d_tied": 2048, "d_untied": 2048}
    with pytest.raises(LimitError, match="MiB of memory"):
        manager.submit_checkpoint(task, "alice")
    assert manager.submit_checkpoint(task, "host", trusted=True).status == "queued"


def test_a_tokenizer_regex_that_backtracks_ends_only_its_job(tmp_path, managers, pair):
    """A pre-tokenizer regex that backtracks makes Rust panic (a BaseException) when it runs; tieviz now
    refuses such a tokenizer before it runs. Either way the job settles with one line and the queue goes on.
    """
    import json
    import shutil

    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    from tieviz.checkpoint_analysis import read_text

    folder = shutil.copytree(pair[0], tmp_path / "hostile")
    tokenizer = Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"(\w+\s?)*$"), "isolated")
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}))
    (tmp_path / "text.txt").write_text("a" * 40 + "!")
    manager = managers(tmp_path / "data", concurrency=1)
    task = {"task": "text", "checkpoint": str(folder), "text": str(tmp_path / "text.txt"), "vocab_size": 64}
    job = manager.submit_checkpoint(task | {"source": "file"}, "alice")
    ended = wait_for(manager, job.id, settled)
    assert ended.status in ("done", "failed") and "\n" not in (ended.error or ""), ended  # not interrupted
    if ended.status == "done":  # refused before it ran: no frequencies, and the note says why
        text = read_text(manager.result_dir(job.id))
        assert text.ids is None and "tokenizer" in text.note.lower(), text.note
    after = manager.submit_checkpoint(compare_task(pair), "alice")
    assert wait_for(manager, after.id, settled).status == "done"


def test_the_tuned_lens_of_a_big_upload_is_refused_by_the_anonymous_caps(tmp_path, managers, pair):
    from tieviz.jobs.checkpoint import lens_flops

    task = {"task": "lens", "checkpoint": str(pair[0]), "frequency": "", "run": "", "n_params": 51_000_000}
    capped = managers(tmp_path / "a", concurrency=0, limits=Limits(anon_max_params=20_000_000))
    with pytest.raises(LimitError, match="51,000,000 parameters"):
        capped.submit_checkpoint(task, "alice")
    budget = managers(tmp_path / "b", concurrency=0, limits=Limits(anon_max_tflops=1))
    assert lens_flops(51_000_000) > 1e12
    with pytest.raises(LimitError, match="TFLOPs"):
        budget.submit_checkpoint(task, "alice")
    assert budget.submit_checkpoint(task, "host", trusted=True).status == "queued"


def test_a_series_gives_the_same_bias_prepared_once_or_pair_by_pair(tmp_path, managers):
    """Step-named folders go through compare_series (the untied matrices prepared once); others, such as
    uploads, one comparison each. Both must give the same numbers for the same checkpoints."""
    import numpy as np

    from tieviz.checkpoint_analysis import read_series

    rng = np.random.default_rng(3)
    n, d = 96, 8
    untied_in, untied_out = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    untied = save_gpt2_with(tmp_path / "untied", untied_in, untied_out)
    tied = [
        save_gpt2_with(
            tmp_path / "run" / f"step{step}",
            (1 - a) * untied_in + a * untied_out + 0.1 * rng.normal(size=(n, d)),
        )
        for step, a in ((10, 0.2), (20, 0.5), (30, 0.8))
    ]
    task = {
        "task": "series",
        "tied": [str(p) for p in tied],
        "labels": ["10", "20", "30"],
        "untied": str(untied),
        "tokens": n,
        "frequency": "",
        "d_tied": d,
        "d_untied": d,
        "vocab": n,
        "pairs": 3,
    }
    manager = managers(tmp_path / "data", concurrency=1)
    prepared = manager.submit_checkpoint(task | {"steps": [10, 20, 30]}, "alice")
    by_pair = manager.submit_checkpoint(task | {"steps": [None, None, None]}, "alice")
    for job in (prepared, by_pair):
        assert wait_for(manager, job.id, settled).status == "done", manager.get(job.id).error
    a, b = (read_series(manager.result_dir(job.id)) for job in (prepared, by_pair))
    assert [row.step for row in a] == [10, 20, 30] and [row.step for row in b] == [None] * 3
    assert np.allclose([row.bias for row in a], [row.bias for row in b], atol=1e-5)
    assert a[0].bias < a[1].bias < a[2].bias


def test_a_job_past_its_cpu_seconds_is_stopped_by_the_kernel_with_one_line(tmp_path, managers, pair):
    """RLIMIT_CPU ends a worker that never looks at its cancel flag (a Rust call that spins)."""
    import numpy as np

    rng = np.random.default_rng(4)
    big = (
        save_gpt2_with(tmp_path / "cpu-tied", rng.normal(size=(6000, 64))),
        save_gpt2_with(tmp_path / "cpu-untied", rng.normal(size=(6000, 64)), rng.normal(size=(6000, 64))),
    )
    manager = managers(tmp_path / "data", concurrency=1)
    state = manager.jobs_store.create(
        "ck-cpu", compare_task(big, 6000), "alice", kind="checkpoint", hard_limits={"cpu_seconds": 1}
    )
    failed = wait_for(manager, state["id"], settled, timeout=120)
    assert failed.status == "failed", failed
    assert failed.error.startswith("it used its 1 CPU seconds"), failed.error
    after = manager.submit_checkpoint(compare_task(pair, tokens=40), "alice")
    assert wait_for(manager, after.id, settled).status == "done"
