"""Device choice: cuda, then mps, then cpu for "auto"; an explicit device must exist (availability faked)."""

import pytest
import torch

from tieviz.system.device import resolve_device


@pytest.fixture
def machine(monkeypatch):
    """Sets what this fake machine has: machine(cuda=True, mps=False)."""

    def have(cuda: bool = False, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return have


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(machine, cuda, mps, expected):
    machine(cuda=cuda, mps=mps)
    assert resolve_device("auto") == expected


def test_explicit_devices_are_kept_when_present(machine):
    machine(cuda=True, mps=True)
    assert [resolve_device(d) for d in ("cpu", "cuda", "mps")] == ["cpu", "cuda", "mps"]


def test_a_missing_device_is_refused_with_a_way_out(machine):
    machine(cuda=False, mps=False)
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="no CUDA GPU.*--device auto"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="MPS backend is not available"):
        resolve_device("mps")


def test_an_unknown_device_names_the_choices():
    with pytest.raises(ValueError, match="use auto, cpu, cuda or mps"):
        resolve_device("tpu")
