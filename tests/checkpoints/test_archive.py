"""stage_upload: good uploads land in one folder; hostile ones are refused and leave nothing behind."""

from __future__ import annotations

import io
import shutil
import struct
import time
import zipfile
from pathlib import Path

import pytest

from tests.checkpoints.tiny import zip_bytes, zip_dir
from tieviz.checkpoints import CheckpointError, archive, inspect_checkpoint, stage_upload

MB = 2**20


def _all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture()
def ckpt(family_checkpoints) -> Path:
    return family_checkpoints["gpt2", False][0]


def test_directory_zip_and_loose_files_stage_the_same_checkpoint(ckpt, tmp_path):
    from_dir = stage_upload(ckpt, tmp_path / "a")
    from_zip = stage_upload(zip_dir(ckpt, tmp_path / "c.zip"), tmp_path / "b")
    zip_upload = stage_upload([("c.zip", (tmp_path / "c.zip").read_bytes())], tmp_path / "c")
    loose = stage_upload([(p.name, p.read_bytes()) for p in ckpt.iterdir()], tmp_path / "d")
    # as a staging job gets them: each uploaded file's name, and the file on disk that holds its bytes
    zip_on_disk = stage_upload([("c.zip", tmp_path / "c.zip")], tmp_path / "e")
    loose_on_disk = stage_upload([(p.name, p) for p in ckpt.iterdir()], tmp_path / "f")
    for staged in (from_dir, from_zip, zip_upload, loose, zip_on_disk, loose_on_disk):
        assert staged.resolve().is_relative_to((tmp_path).resolve())
        assert (staged / "config.json").is_file() and (staged / "model.safetensors").is_file()
        assert inspect_checkpoint(staged) == inspect_checkpoint(ckpt)
    assert from_zip.name == "checkpoint"  # the zip's single top folder is found


def test_unrelated_files_are_not_written(ckpt, tmp_path):
    upload = [(p.name, p.read_bytes()) for p in ckpt.iterdir()] + [("run.sh", b"rm -rf /")]
    staged = stage_upload(upload, tmp_path / "up")
    assert not (staged / "run.sh").exists()


def test_random_bytes_named_zip_are_refused(tmp_path):
    bad = tmp_path / "model.zip"
    bad.write_bytes(b"\x00not a zip at all" * 100)
    with pytest.raises(CheckpointError, match="not a valid zip"):
        stage_upload(bad, tmp_path / "up")
    with pytest.raises(CheckpointError, match="not a valid zip"):
        stage_upload([("model.zip", bad.read_bytes())], tmp_path / "up")
    assert _all_files(tmp_path / "up") == []


@pytest.mark.parametrize(
    "name", ["../evil.safetensors", "ok/../../evil.safetensors", "/tmp/evil.safetensors"]
)
def test_escaping_zip_entries_are_refused_and_nothing_is_written(tmp_path, name):
    data = zip_bytes({"config.json": b"{}", name: b"x"})
    dest = tmp_path / "uploads" / "user"
    with pytest.raises(CheckpointError, match="outside the upload folder|absolute path"):
        stage_upload([("up.zip", data)], dest)
    assert _all_files(tmp_path) == []


def test_escaping_loose_file_names_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="plain file name|outside"):
        stage_upload([("config.json", b"{}"), ("sub/../../evil.safetensors", b"x")], tmp_path / "up")
    assert _all_files(tmp_path) == []


def test_symlink_entries_are_refused(tmp_path):
    info = zipfile.ZipInfo("model.safetensors")
    info.external_attr = 0o120777 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", b"{}")
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(CheckpointError, match="symbolic link"):
        stage_upload([("up.zip", buf.getvalue())], tmp_path / "up")


def test_too_many_entries_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ENTRIES", 5)
    data = zip_bytes({f"t{i}.txt": b"" for i in range(6)})
    with pytest.raises(CheckpointError, match="at most 5"):
        stage_upload([("up.zip", data)], tmp_path / "up")


def _bomb(path: Path, size: int) -> Path:
    """``size`` bytes of zeros as model.safetensors, deflated to a few hundred KB."""
    zeros = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("config.json", b"{}")
        with zf.open("model.safetensors", "w") as out:
            for _ in range(size // MB):
                out.write(zeros)
    return path


def _shrink_declared_sizes(path: Path, claimed: int) -> None:
    """Rewrite the central directory so every entry claims to unpack to ``claimed`` bytes."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24 : at + 28] = struct.pack("<I", claimed)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def bomb_zip(tmp_path_factory) -> Path:
    return _bomb(tmp_path_factory.mktemp("bomb") / "bomb.zip", 200 * MB)


def test_zip_bomb_is_refused_from_its_declared_size(tmp_path, bomb_zip):
    bomb = shutil.copy(bomb_zip, tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 2 * MB
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="over the limit"):
        stage_upload(bomb, tmp_path / "up", max_total_bytes=10 * MB)
    assert time.perf_counter() - start < 1.0
    assert _all_files(tmp_path / "up") == []


def test_zip_bomb_with_lying_headers_stops_early(tmp_path, monkeypatch, bomb_zip):
    bomb = shutil.copy(bomb_zip, tmp_path / "bomb.zip")
    _shrink_declared_sizes(bomb, 1000)
    written = []
    real = archive._write_stream

    def spy(src, target, budget, expected=None):
        try:
            real(src, target, budget, expected)
        finally:
            written.append(target.stat().st_size if target.exists() else 0)

    monkeypatch.setattr(archive, "_write_stream", spy)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="corrupt|larger than its header|more than the limit"):
        stage_upload(bomb, tmp_path / "up", max_total_bytes=10 * MB)
    assert time.perf_counter() - start < 2.0
    assert max(written) <= 10 * MB
    assert _all_files(tmp_path / "up") == []


def test_running_byte_count_stops_an_entry_over_budget(tmp_path):
    """Declared sizes within budget but actual bytes over it: the running count stops the copy."""
    budget = archive._Budget(3 * MB)
    with pytest.raises(CheckpointError, match="more than the limit"):
        archive._write_stream(io.BytesIO(bytes(5 * MB)), tmp_path / "big.bin", budget)
    assert (tmp_path / "big.bin").stat().st_size <= 3 * MB


def test_upload_without_config_or_with_two_is_refused(ckpt, tmp_path):
    with pytest.raises(CheckpointError, match="no config.json"):
        stage_upload([("model.safetensors", b"x")], tmp_path / "a")
    two = zip_bytes({"a/config.json": b"{}", "b/config.json": b"{}"})
    with pytest.raises(CheckpointError, match="more than one config.json"):
        stage_upload([("two.zip", two)], tmp_path / "b")
    shutil.rmtree(tmp_path / "a")
    assert not (tmp_path / "b").exists() or _all_files(tmp_path / "b") == []


def test_zip_mixed_with_loose_files_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not both"):
        stage_upload([("a.zip", zip_bytes({"config.json": b"{}"})), ("config.json", b"{}")], tmp_path / "up")


def test_a_trainer_output_zip_picks_the_top_level_checkpoint(ckpt, tmp_path):
    """A Trainer output folder: the final model at the top, checkpoint-500/ below it, as for a folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(ckpt.iterdir()):
            zf.write(path, f"out/{path.name}")
            zf.write(path, f"out/checkpoint-500/{path.name}")
    staged = stage_upload([("out.zip", buf.getvalue())], tmp_path / "up")
    assert staged.name == "out" and (staged / "config.json").is_file()
    assert inspect_checkpoint(staged).vocab_size == inspect_checkpoint(ckpt).vocab_size


def test_the_entry_count_is_read_from_the_end_record_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ENTRIES", 5)
    data = zip_bytes({f"t{i}.txt": b"" for i in range(6)})

    def no_parsing(*args, **kwargs):
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(archive.zipfile, "ZipFile", no_parsing)
    with pytest.raises(CheckpointError, match="lists 6 entries"):
        stage_upload([("up.zip", data)], tmp_path / "up")


def test_a_zip64_end_record_listing_millions_of_entries_is_refused_at_once(tmp_path):
    """Only the end records, claiming 4,000,000 entries: refused from them, without reading any directory."""
    entries = 4_000_000
    zip64_eocd = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, 46 * entries, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with pytest.raises(CheckpointError, match="4,000,000 entries"):
        stage_upload([("up.zip", zip64_eocd + locator + eocd)], tmp_path / "up")
    assert _all_files(tmp_path / "up") == []


def test_a_file_uploaded_twice_is_one_line_without_a_server_path(ckpt, tmp_path):
    config = (ckpt / "config.json").read_bytes()
    with pytest.raises(CheckpointError, match="'config.json' was uploaded twice") as caught:
        stage_upload([("config.json", config), ("config.json", config)], tmp_path / "up")
    assert str(tmp_path) not in str(caught.value) and "Errno" not in str(caught.value)
    assert _all_files(tmp_path / "up") == []
