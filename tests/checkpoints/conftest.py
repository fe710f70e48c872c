"""Fixtures: tiny saved checkpoints shared by the session, and private copies a test may damage."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.checkpoints.tiny import Checkpoints


@pytest.fixture(scope="session")
def family_checkpoints(tmp_path_factory) -> Checkpoints:
    """Tiny saved checkpoints of every family, shared by the whole session."""
    return Checkpoints(tmp_path_factory.mktemp("families"))


@pytest.fixture()
def copy_checkpoint(family_checkpoints, tmp_path) -> Callable[[str, bool], Path]:
    """A private copy of a saved checkpoint that a test may damage."""

    def make(name: str, tied: bool) -> Path:
        dest = tmp_path / f"{name}-{tied}-copy"
        shutil.copytree(family_checkpoints[name, tied][0], dest)
        return dest

    return make
