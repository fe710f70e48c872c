"""Run keys: every setting that changes the weights is in them, and nothing that does not."""

from dataclasses import asdict, replace

import pytest

from tieviz.config import BOUNDS, TOY_LANGUAGE_VERSION, DataConfig, config_hash, preset


def test_the_toy_language_version_is_in_the_key_of_toy_runs_only():
    toy, demo = preset("toy"), preset("demo")
    assert "toy_language" in toy.data.hashed()
    assert "toy_language" not in demo.data.hashed()
    # A pydocs run's key is what it was before the toy language had a version, so stored runs stay hits.
    legacy = asdict(demo)
    legacy.pop("preset")
    legacy["data"].pop("toy_language")
    assert demo.key() == config_hash(legacy)


def test_keys_change_with_settings_that_change_the_weights():
    base = preset("toy")
    assert preset("toy").key() == base.key()
    assert preset("toy", seed=1).key() != base.key()
    assert preset("toy", steps=201).key() != base.key()
    assert replace(base, preset="renamed").key() == base.key()  # a preset's name is not a setting
    assert base.arm("tied").key() != base.arm("untied").key() != base.arm("scaled").key()


def test_another_toy_language_version_is_refused():
    assert DataConfig().toy_language == TOY_LANGUAGE_VERSION
    with pytest.raises(ValueError, match="toy language version"):
        DataConfig(corpus="toy", toy_language=TOY_LANGUAGE_VERSION - 1)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"vocab_size": 8}, "vocab_size must be at least 16"),
        ({"d_model": 30, "n_heads": 4}, "divisible"),
        ({"steps": 0}, "steps must be at least 1"),
        ({"seeds": 0}, "seeds must be at least 1"),
        ({"batch_size": 10**9}, "batch_size 1,000,000,000 is above"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"alpha": 0.0}, "alpha must be a positive number"),
        ({"top_n": 5}, "at least 10"),
        ({"device": "tpu"}, "unknown device"),
        ({"n_layers": 2.5}, "whole number"),
    ],
)
def test_validate_refuses_settings_that_cannot_run_in_one_sentence(overrides, fragment):
    config = preset("toy", **overrides)
    with pytest.raises(ValueError, match=fragment):
        config.validate(memory=2**40)


def test_validate_accepts_every_preset_and_the_smallest_sizes():
    for name in ("toy", "demo", "gpu"):
        preset(name).validate(memory=2**40)
    smallest = {name: low for name, (low, _) in BOUNDS.items()}
    preset("toy", **smallest, top_n=0).validate(memory=2**40)


def test_validate_refuses_a_step_that_cannot_fit_in_memory():
    with pytest.raises(ValueError, match="GiB of memory"):
        preset("demo").validate(memory=2**20)


def test_model_building_applies_the_same_rules():
    from tieviz.training.model import build_model

    arm = preset("toy", d_model=30, n_heads=4).arm("tied")
    with pytest.raises(ValueError, match="divisible"):
        build_model(arm, vocab_size=128, eos_id=0)


def test_every_config_field_carries_a_comment():
    """nanoGPT's habit: each setting says what it is where it is declared (a comment on its line or above)."""
    import ast
    from pathlib import Path

    import tieviz.config

    source = Path(tieviz.config.__file__).read_text().splitlines()
    tree = ast.parse("\n".join(source))
    bare = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Config"):
            for item in node.body:
                if isinstance(item, ast.AnnAssign):
                    line, above = source[item.lineno - 1], source[item.lineno - 2].strip()
                    if "#" not in line and not above.startswith("#"):
                        bare.append(f"{node.name}.{item.target.id}")
    assert bare == []
