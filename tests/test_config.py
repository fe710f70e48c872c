"""Run keys: every setting that changes the weights is in them, and nothing that does not."""

from dataclasses import asdict, replace

import pytest

from tieviz.config import TOY_LANGUAGE_VERSION, DataConfig, config_hash, preset


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
