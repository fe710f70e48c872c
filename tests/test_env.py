"""Environment settings: defaults when unset or blank, exact values when set, a named error when wrong."""

import pytest

from tieviz.env import env_int, env_positive, env_text

NAME = "TIEVIZ_TEST_SETTING"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_unset_or_blank_takes_the_default(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv(NAME, raising=False)
    else:
        monkeypatch.setenv(NAME, raw)
    assert env_text(NAME, "local") == "local"
    assert env_int(NAME, 7) == 7
    assert env_positive(NAME, 2.5) == 2.5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), (" 12 ", 12), ("200_000_000", 200_000_000), ("2e8", 200_000_000), ("0", 0)],
)
def test_whole_numbers_are_read_exactly(monkeypatch, raw, expected):
    monkeypatch.setenv(NAME, raw)
    assert env_int(NAME, 99) == expected


@pytest.mark.parametrize("raw", ["lots", "1.5", "nan"])
def test_a_value_that_is_not_a_whole_number_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ValueError, match=f"{NAME} must be a whole number"):
        env_int(NAME, 1)


def test_a_number_below_the_minimum_is_refused(monkeypatch):
    monkeypatch.setenv(NAME, "0")
    with pytest.raises(ValueError, match=f"{NAME} must be 1 or more"):
        env_int(NAME, 0, minimum=1)
    monkeypatch.setenv(NAME, "-2")
    with pytest.raises(ValueError, match=f"{NAME} must be 0 or more"):
        env_int(NAME, 0)


@pytest.mark.parametrize("raw", ["0", "-1", "inf", "nan", "twelve"])
def test_positive_numbers_refuse_zero_negative_infinite_and_text(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ValueError, match=NAME):
        env_positive(NAME, 1.0)


def test_positive_numbers_keep_fractions(monkeypatch):
    monkeypatch.setenv(NAME, "0.25")
    assert env_positive(NAME, 1.0) == 0.25


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        # A dashboard with concurrency 0 would queue forever.
        ("TIEVIZ_CONCURRENCY", "0", "TIEVIZ_CONCURRENCY must be 1 or more"),
        # Read at each launch; a bad value must not fail every job once claimed.
        ("TIEVIZ_TORCH_THREADS", "many", "TIEVIZ_TORCH_THREADS must be a whole number"),
        # A guessable secret would make host access a matter of trying.
        ("TIEVIZ_HOST_TOKEN", "admin", "TIEVIZ_HOST_TOKEN must be at least 16 characters"),
        ("TIEVIZ_ANON_MAX_TFLOPS", "lots", "TIEVIZ_ANON_MAX_TFLOPS must be a whole number"),
    ],
)
def test_a_bad_job_setting_stops_start_up(monkeypatch, tmp_path, name, raw, message):
    import tieviz.jobs as jobs

    monkeypatch.setattr(jobs, "_default", None)
    monkeypatch.setenv("TIEVIZ_DATA", str(tmp_path))
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=message):
        jobs.default_manager()
    assert jobs._default is None


def test_torch_threads_zero_means_the_default(monkeypatch, tmp_path):
    """0 has always meant "choose for me": (cores - 1) / concurrency threads per worker."""
    from tieviz.jobs.local import LocalExecutor

    launched = []

    class Recorder:  # stands in for the multiprocessing context: records the worker's arguments
        def Process(self, target, args, name, daemon):  # noqa: N802 - the context's method name
            launched.append(args)
            return type("NotStarted", (), {"start": lambda self: None})()

    executor = LocalExecutor()
    executor._gpus, executor._ctx = 0, Recorder()
    executor.set_concurrency(1)
    for raw, threads in (("0", executor._threads), ("3", 3)):
        monkeypatch.setenv("TIEVIZ_TORCH_THREADS", raw)
        executor.launch(tmp_path, "job", None)
        assert launched[-1][3] == threads, raw  # (root, job id, gpu, threads)
