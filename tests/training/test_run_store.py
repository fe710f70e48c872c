"""The run store: cache hits, atomic commits, crashes that leave nothing readable as complete."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

import tieviz.experiments.runner as experiment
from tieviz.config import COMPARED_ARMS
from tieviz.experiments.runner import resolve, run_experiment, train_arm
from tieviz.experiments.summary_record import SCHEMA_VERSION
from tieviz.training.loop import TrainingCancelled


def test_experiment_trains_four_models_per_seed_then_hits_the_cache(tiny_experiment, monkeypatch):
    tiny_config, store, first = tiny_experiment
    assert first.cache_hit is False and first.seeds == [0, 1]
    keys = {a.key for arms in first.seed_arms.values() for a in arms.values()}
    assert {r.key for r in store.list_runs()} == keys
    assert len(store.list_runs()) == 4 * 2  # tied, untied, scaled and the baseline's second untied model

    def no_training(*args, **kwargs):
        raise AssertionError("a cached experiment must not train again")

    monkeypatch.setattr(experiment, "_train_and_commit", no_training)
    started = time.perf_counter()
    second = run_experiment(tiny_config, store)
    assert second.cache_hit is True
    assert time.perf_counter() - started < 5
    assert second.bias == first.bias and second.stats == first.stats


def test_tied_and_scaled_share_their_start_and_the_untied_reference_has_its_own(tiny_experiment):
    tiny_config, store, summary = tiny_experiment
    arms = summary.arms
    assert arms["tied"].tied and arms["scaled"].tied and not arms["untied"].tied
    assert arms["scaled"].alpha == tiny_config.alpha and arms["tied"].alpha == 1.0
    assert arms["untied"].params > arms["tied"].params
    runs = {name: store.get(arms[name].key) for name in COMPARED_ARMS}
    start = {name: run.embeddings(step=0) for name, run in runs.items()}
    np.testing.assert_array_equal(start["tied"][0], start["scaled"][0])  # the causal test: only alpha differs
    assert not np.array_equal(start["tied"][0], start["untied"][0])  # independent initialisation
    assert not np.array_equal(start["untied"][0], start["untied"][1])  # untied W_U is its own matrix
    np.testing.assert_array_equal(*runs["tied"].embeddings())  # tied: W_U is W_E
    other_seed = store.get(summary.seed_arms["1"]["tied"].key)
    assert not np.array_equal(other_seed.embeddings(step=0)[0], start["tied"][0])  # seeds differ


def test_shared_initialisation_stays_an_option(tiny_config):
    shared = replace(resolve(tiny_config), init="shared")
    tied, untied = shared.arm("tied"), shared.arm("untied")
    assert untied.weights_seed == tied.weights_seed
    from tieviz.training.model import build_model

    torch_tied, torch_untied = build_model(tied, 40, 1), build_model(untied, 40, 1)
    np.testing.assert_array_equal(
        torch_tied.transformer.wte.weight.detach().numpy(),
        torch_untied.transformer.wte.weight.detach().numpy(),
    )
    independent = resolve(tiny_config).arm("untied")
    assert independent.weights_seed != tied.weights_seed and independent.train.seed == tied.train.seed


def test_the_untied_reference_reads_its_own_batch_order_unless_shared(tiny_config):
    from tieviz.training.corpus import BatchSampler

    config = resolve(tiny_config)
    assert config.data_order == "independent"
    tied, untied, scaled = (config.arm(name) for name in COMPARED_ARMS)
    assert tied.order_seed == scaled.order_seed != untied.order_seed  # the causal test changes only alpha
    ids = np.arange(5000, dtype=np.int32)

    def first_batch(arm):
        return BatchSampler(ids, 16, 4, seed=arm.order_seed).next()

    assert not np.array_equal(first_batch(tied), first_batch(untied))
    shared = replace(config, data_order="shared").arm("untied")
    np.testing.assert_array_equal(first_batch(tied), first_batch(shared))
    # An untied run trained on the tied arm's order is never served as one trained on its own.
    assert shared.key() != untied.key()
    assert replace(config, data_order="shared").key() != config.key()


def test_every_seed_and_arm_draws_its_own_weights_and_order_except_tied_and_scaled(tiny_config):
    config = replace(resolve(tiny_config), seeds=5)
    draws = {}
    for seed in config.seed_list:
        for name in ("tied", "untied", "baseline"):
            arm = config.arm(name, seed)
            draws[(name, seed)] = (arm.weights_seed, arm.order_seed)
        assert config.arm("scaled", seed).weights_seed == config.arm("tied", seed).weights_seed
    seeds_used = [s for pair in draws.values() for s in pair]
    assert len(set(seeds_used)) == len(seeds_used) / 2  # each model's init and order share one seed...
    assert len(set(draws.values())) == len(draws)  # ... and no two models share it


def test_lens_settings_are_part_of_the_experiment_key(tiny_config):
    from tieviz.config import LensConfig

    config = resolve(tiny_config)
    assert replace(config, lens=LensConfig(patience=3)).key() != config.key()
    assert replace(config, lens=LensConfig(max_steps=100)).key() != config.key()
    assert replace(config, lens=LensConfig()).key() == config.key()


def test_a_schema_2_summary_is_summarised_again_when_opened(tiny_experiment, tmp_path, monkeypatch):
    """A summary stored before the lens converged and the baseline had its own models is never served."""
    from tieviz.experiments.runner import load_experiment

    tiny_config, store, summary = tiny_experiment
    raw = summary.to_dict()
    stale = {**raw, "schema_version": 2, "baseline": {}, "lens": {**raw["lens"], "tied": {"stale": True}}}
    stale.pop("baseline_method")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(stale))
    monkeypatch.setattr(experiment, "_train_and_commit", lambda *a, **k: pytest.fail("must not train"))
    opened, runs = load_experiment(path)
    assert opened.schema_version == SCHEMA_VERSION and opened.baseline_method
    assert "stale" not in opened.lens.models["tied"].extra and opened.lens.converged is True
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_an_older_summary_is_summarised_again_from_its_runs_without_training(tiny_experiment, monkeypatch):
    tiny_config, store, summary = tiny_experiment
    path = experiment.experiment_path(store, summary.experiment_key)
    raw = json.loads(path.read_text())
    old = {k: v for k, v in raw.items() if k not in ("schema_version", "stats", "floors", "verdicts")}
    path.write_text(json.dumps(old))  # as an older tieviz wrote it: no version, no stats

    def no_training(*args, **kwargs):
        raise AssertionError("re-summarising must not train")

    monkeypatch.setattr(experiment, "_train_and_commit", no_training)
    again = run_experiment(tiny_config, store)
    assert again.schema_version == SCHEMA_VERSION and again.stats.keys() == summary.stats.keys()
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION  # rewritten in place


def test_saved_arm_loads_with_auto_classes(tiny_experiment):
    tiny_config, store, summary = tiny_experiment
    for name in COMPARED_ARMS:
        path = summary.arms[name].run_dir
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        assert model.config.tie_word_embeddings == summary.arms[name].tied
        ids = tokenizer("the toy language", return_tensors="pt").input_ids
        assert model(ids).logits.shape[-1] == len(tokenizer)
    metrics = store.get(summary.arms["tied"].key).metrics()
    assert [m["step"] for m in metrics] == list(range(1, tiny_config.train.steps + 1))
    assert all(m["grad_ratio"] > 0 for m in metrics)
    assert all(m["grad_in_act"] > 0 for m in metrics)  # the paper's input norm, logged every step
    assert "val_loss" in metrics[-1]


def test_a_crash_mid_training_leaves_no_complete_run(tiny_config, store):
    arm = resolve(tiny_config).arm("tied")

    def corpus():
        from tieviz.training.corpus import build_corpus

        return build_corpus(arm.data, arm.model.seq_len)

    with pytest.raises(TrainingCancelled):
        train_arm(arm, store, corpus, should_stop=lambda: True)
    assert not store.is_complete(arm.key())
    assert not store.path(arm.key()).exists()
    assert list((store.root / ".staging").iterdir()) == []
    # A killed process cannot clean up after itself: its staging directory is removed by the next trainer.
    stale = store.root / ".staging" / f"{arm.key()}-deadbeef"
    (stale / "checkpoints").mkdir(parents=True)
    # A half-written directory at the key (a crash from an older version, a copy gone wrong) is not complete.
    store.path(arm.key()).mkdir(parents=True)
    (store.path(arm.key()) / "metrics.jsonl").write_text('{"step": 1}\n')
    assert store.get(arm.key()) is None
    run = train_arm(arm, store, corpus)
    assert run.info["complete"] and store.is_complete(arm.key())
    assert not stale.exists()


def test_concurrent_requests_for_one_key_train_once(tiny_config, store, monkeypatch):
    arm = resolve(tiny_config).arm("untied")
    calls = []
    real = experiment._train_and_commit

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(experiment, "_train_and_commit", counting)

    def corpus():
        from tieviz.training.corpus import build_corpus

        return build_corpus(arm.data, arm.model.seq_len)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(train_arm(arm, store, corpus))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({r.path for r in results}) == 1 and len(results) == 3
