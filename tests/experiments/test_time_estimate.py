"""tieviz.experiments.time_estimate: known answers from earlier runs' timings, the model's direction, the
wording."""

from __future__ import annotations

import json

import pytest

from tieviz.config import ARM_NAMES, preset
from tieviz.experiments.summary_record import SummaryHeader
from tieviz.experiments.time_estimate import ANALYSIS_STEPS, STARTUP_SECONDS, estimate, model_step_seconds

MODELS = len(ARM_NAMES)  # models trained per seed: the three arms and the baseline's second untied model
ARM = {"run_dir": "", "key": "", "alpha": 1.0, "final_train_loss": 1.0, "final_val_loss": 1.0, "params": 1}
ARM["tokens_per_second"] = 100.0


def headers(summaries: list[dict]) -> list[SummaryHeader]:
    """What the picker's listing hands the estimate: each stored summary's header."""
    return [SummaryHeader.from_dict(s) for s in summaries]


def summary_of(config, device="cpu", arm_seconds=(10.0, 12.0, 14.0), analysis=6.0) -> dict:
    """A summary as an older tieviz recorded it, three models a seed: each arm's wall time and the total."""
    arms = {
        name: {**ARM, "tied": name != "untied", "wall_seconds": s}
        for name, s in zip(("tied", "untied", "scaled"), arm_seconds, strict=True)
    }
    return {
        "experiment_key": "k",
        "config": config.to_dict(),
        "device": device,
        "arms": arms,
        "wall_seconds": sum(arm_seconds) + analysis,
    }


def test_the_same_shape_again_takes_what_it_took_plus_start_up():
    earlier = preset("toy", seeds=1, steps=100)
    # Arms of 10, 12 and 14 s over 100 steps: 0.12 s a step; now twice the steps and another seed.
    config = preset("toy", seeds=1, steps=200, seed=7)
    guess = estimate(config, "cpu", headers([summary_of(earlier)]))
    assert guess.basis == "same shape"
    assert guess.seconds == pytest.approx(STARTUP_SECONDS["cpu"] + MODELS * 200 * 0.12 + 6.0)


def test_another_shape_is_scaled_by_how_fast_this_machine_ran():
    earlier = preset("toy", seeds=1, steps=100)
    step = model_step_seconds(earlier, "cpu")
    # This machine: steps twice as slow as the model says, the analysis three times.
    summaries = [summary_of(earlier, arm_seconds=(200 * step,) * 3, analysis=3 * ANALYSIS_STEPS * step)]
    bigger = preset("demo", seeds=1, steps=50)
    guess = estimate(bigger, "cpu", headers(summaries))
    assert guess.basis == "this machine"
    model = model_step_seconds(bigger, "cpu")
    assert guess.seconds == pytest.approx(
        STARTUP_SECONDS["cpu"] + MODELS * 50 * 2 * model + 3 * ANALYSIS_STEPS * model
    )


def test_without_earlier_runs_here_it_is_a_guess():
    config = preset("toy", seeds=1, steps=100)
    model = model_step_seconds(config, "cpu")
    for summaries in ([], [summary_of(config, device="cuda")]):
        guess = estimate(config, "cpu", headers(summaries))
        assert guess.basis == "guess"
        assert guess.seconds == pytest.approx(
            STARTUP_SECONDS["cpu"] + MODELS * 100 * model + ANALYSIS_STEPS * model
        )
    assert "rough guess" in guess.words


def test_the_newest_same_shape_run_wins():
    config = preset("toy", seeds=1, steps=100)
    newest, older = summary_of(config, arm_seconds=(30, 30, 30)), summary_of(config, arm_seconds=(3, 3, 3))
    assert (
        estimate(config, "cpu", headers([newest, older])).seconds
        > estimate(config, "cpu", headers([older, newest])).seconds
    )


def test_the_model_grows_with_steps_and_size_and_is_faster_on_a_gpu():
    small = preset("toy", seeds=1, steps=100)
    assert estimate(preset("toy", seeds=1, steps=200), "cpu").seconds > estimate(small, "cpu").seconds
    bigger = preset("toy", seeds=1, steps=100, d_model=256, n_heads=4)
    assert estimate(bigger, "cpu").seconds > estimate(small, "cpu").seconds
    assert model_step_seconds(preset("demo"), "cuda") < model_step_seconds(preset("demo"), "cpu")


def test_arm_times_come_from_each_run_json_when_the_summary_lacks_them(tmp_path):
    earlier = preset("toy", seeds=1, steps=100)
    summary = summary_of(earlier, arm_seconds=(20.0, 20.0, 20.0), analysis=5.0)
    for name, arm in summary["arms"].items():
        run_dir = tmp_path / name
        run_dir.mkdir()
        (run_dir / "run.json").write_text(json.dumps({"wall_seconds": arm.pop("wall_seconds")}))
        arm["run_dir"] = str(run_dir)
    guess = estimate(earlier, "cpu", headers([summary]))
    assert guess.basis == "same shape"
    assert guess.seconds == pytest.approx(STARTUP_SECONDS["cpu"] + MODELS * 20.0 + 5.0)
    (tmp_path / "tied" / "run.json").unlink()  # a run deleted since: no timings, so a guess
    assert estimate(earlier, "cpu", headers([summary])).basis == "guess"


def test_every_seed_trains_its_arms_and_is_analysed():
    """Two seeds trained in 2 x 36 s of arms plus 12 s of analysis: 0.12 s a step, 6 s of analysis a seed."""
    earlier = preset("toy", seeds=2, steps=100)
    summary = {**summary_of(earlier, analysis=12.0 + 36.0), "train_seconds": 72.0}
    guess = estimate(preset("toy", seeds=3, steps=100), "cpu", headers([summary]))
    assert guess.basis == "same shape"
    assert guess.seconds == pytest.approx(STARTUP_SECONDS["cpu"] + 3 * (MODELS * 100 * 0.12 + 6.0))


def test_runs_the_store_holds_are_not_trained_again_but_every_seed_is_analysed():
    """A 3-seed experiment whose first 2 seeds are stored: one seed's models to train; 3 seeds to analyse."""
    earlier = preset("toy", seeds=2, steps=100)
    # 2 seeds: 72 s of arms (0.12 s a step), 12 s of analysis; it reused one seed, so wall < train + analysis.
    summary = {**summary_of(earlier), "train_seconds": 72.0, "analysis_seconds": 12.0, "wall_seconds": 50.0}
    config = preset("toy", seeds=3, steps=100)
    guess = estimate(config, "cpu", headers([summary]), runs_stored=2 * MODELS)
    assert guess.seconds == pytest.approx(STARTUP_SECONDS["cpu"] + MODELS * 100 * 0.12 + 3 * 6.0)
    stored = estimate(config, "cpu", headers([summary]), runs_stored=3 * MODELS, summary_stored=True)
    assert stored.basis == "stored" and stored.seconds == STARTUP_SECONDS["cpu"]
    # Every run stored but no summary yet (another seed count was analysed): only the analysis is left.
    assert estimate(config, "cpu", headers([summary]), runs_stored=3 * MODELS).seconds == pytest.approx(
        STARTUP_SECONDS["cpu"] + 3 * 6.0
    )


def test_umap_costs_a_start_once_then_grows_with_tokens_and_maps():
    from tieviz.experiments.time_estimate import UMAP_START_SECONDS, umap_seconds

    warm = umap_seconds(300, 3, started=True)
    assert umap_seconds(300, 3, started=False) == pytest.approx(UMAP_START_SECONDS + warm)
    assert umap_seconds(1000, 3, started=True) > warm and umap_seconds(300, 4, started=True) > warm
    assert 10 < umap_seconds(300, 3, started=False) < 40  # the first time took 20-26 s, not "about 10 s"
