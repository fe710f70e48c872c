"""Upload folders per visitor, and the clean-up policy that never reaches outside the uploads folder."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.checkpoints.tiny import build_model, save_checkpoint, zip_dir
from tieviz.checkpoints import CheckpointError, inspect_checkpoint, uploads
from tieviz.checkpoints.uploads import CleanupPolicy, cleanup_uploads, find_upload, list_uploads, new_upload
from tieviz.system.disk_usage import folder_bytes

VISITOR = "abcdef123456"
HOUR = 3600.0


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    return save_checkpoint(build_model("gpt2", tied=True), tmp_path_factory.mktemp("ckpt") / "gpt2")


def loose_files(folder):
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]


def age(upload, hours: float) -> None:
    """Pretend the upload was made `hours` ago."""
    meta_path = upload.folder / uploads.META
    meta = json.loads(meta_path.read_text())
    meta["created"] = time.time() - hours * HOUR
    meta_path.write_text(json.dumps(meta))


def test_loose_files_and_zip_are_staged_per_visitor(tmp_path, gpt2_dir):
    from_files = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "three files")
    archive = zip_dir(gpt2_dir, tmp_path / "gpt2.zip")
    from_zip = new_upload(tmp_path, VISITOR, [("gpt2.zip", archive.read_bytes())], "gpt2.zip")
    for upload in (from_files, from_zip):
        assert upload.folder.parent == tmp_path / "uploads" / VISITOR
        assert upload.checkpoint.is_relative_to(upload.folder.resolve())
        assert inspect_checkpoint(upload.checkpoint).architecture == "GPT2LMHeadModel"
    assert [u.id for u in list_uploads(tmp_path, VISITOR)] == [from_zip.id, from_files.id]
    assert find_upload(tmp_path, VISITOR, from_zip.id) == from_zip
    assert find_upload(tmp_path, VISITOR, "ck-000000000000") is None
    assert find_upload(tmp_path, VISITOR, "../../etc") is None


def test_a_refused_upload_leaves_nothing(tmp_path):
    with pytest.raises(CheckpointError):
        new_upload(tmp_path, VISITOR, [("model.zip", b"not a zip at all")], "model.zip")
    assert list((tmp_path / "uploads" / VISITOR).iterdir()) == []


def test_bad_visitor_ids_are_refused(tmp_path, gpt2_dir):
    with pytest.raises(ValueError, match="visitor"):
        new_upload(tmp_path, "../escape", loose_files(gpt2_dir), "x")
    assert not (tmp_path / "escape").exists()


def test_old_uploads_go_and_new_ones_stay(tmp_path, gpt2_dir):
    old = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "old")
    age(old, 30)
    other = new_upload(tmp_path, "visitor2two", loose_files(gpt2_dir), "other visitor, recent")
    age(other, 2)
    fresh = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "fresh")  # runs the clean-up
    assert not old.folder.exists()
    assert other.folder.exists() and fresh.folder.exists()


def test_the_byte_cap_removes_the_oldest_first(tmp_path, gpt2_dir):
    size = sum(len(data) for _, data in loose_files(gpt2_dir))
    roomy = CleanupPolicy(ttl_hours=24, max_total_bytes=10 * size)
    first = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "first", policy=roomy)
    second = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "second", policy=roomy)
    age(first, 2)
    age(second, 1)
    tight = CleanupPolicy(ttl_hours=24, max_total_bytes=int(2.5 * size))
    third = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "third", policy=tight)
    assert not first.folder.exists()
    assert second.folder.exists() and third.folder.exists()


def test_an_upload_larger_than_the_cap_is_refused(tmp_path, gpt2_dir):
    with pytest.raises(CheckpointError, match="limit"):
        new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "big", policy=CleanupPolicy(24, 1000))


def test_cleanup_touches_nothing_outside_upload_folders(tmp_path, gpt2_dir):
    data = tmp_path / "data"
    old = new_upload(data, VISITOR, loose_files(gpt2_dir), "old")
    age(old, 100)
    # Things that must survive: a run store, a loose text upload (Train page), an unknown folder,
    # and a symlinked "upload" pointing outside the data folder.
    runs = data / "runs" / "r1"
    runs.mkdir(parents=True)
    (runs / "model.safetensors").write_bytes(b"x" * 100)
    text = data / "uploads" / VISITOR / "0123abcd-notes.txt"
    text.write_text("some words")
    stranger = data / "uploads" / VISITOR / "keepme"
    stranger.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    os.symlink(outside, data / "uploads" / VISITOR / "ck-aaaaaaaaaaaa")
    past = time.time() - 100 * HOUR
    for path in (runs / "model.safetensors", text, stranger, outside / "precious.txt"):
        os.utime(path, (past, past))

    removed = cleanup_uploads(data, CleanupPolicy(ttl_hours=1, max_total_bytes=1))
    assert removed == [old.folder]
    assert not old.folder.exists()
    assert (runs / "model.safetensors").exists() and text.exists() and stranger.exists()
    assert (outside / "precious.txt").read_text() == "keep"


def test_policy_reads_the_environment(monkeypatch):
    monkeypatch.setenv(uploads.TTL_ENV, "2.5")
    monkeypatch.setenv(uploads.MAX_TOTAL_ENV, "10")
    assert CleanupPolicy.from_env() == CleanupPolicy(ttl_hours=2.5, max_total_bytes=10 * 2**20)
    monkeypatch.setenv(uploads.TTL_ENV, "soon")
    with pytest.raises(ValueError, match=uploads.TTL_ENV):
        CleanupPolicy.from_env()
    monkeypatch.delenv(uploads.TTL_ENV)
    monkeypatch.delenv(uploads.MAX_TOTAL_ENV)
    assert CleanupPolicy.from_env() == CleanupPolicy()


def test_a_text_upload_is_kept_by_content_and_a_bad_one_is_not(tmp_path):
    from tieviz.checkpoints.uploads import save_text_upload

    visitor = "abcdef0123"
    path, words = save_text_upload(tmp_path, visitor, "../../my notes.txt", b"one two three\n\nfour")
    assert words == 4 and path.read_bytes() == b"one two three\n\nfour"
    assert path.parent == tmp_path / "uploads" / visitor and " " not in path.name  # stays in its folder
    again, _ = save_text_upload(tmp_path, visitor, "../../my notes.txt", b"one two three\n\nfour")
    assert again == path  # same text, same file, same run key
    with pytest.raises(ValueError, match="not UTF-8"):
        save_text_upload(tmp_path, visitor, "latin.txt", "caf\xe9".encode("latin-1"))
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    with pytest.raises(ValueError, match="visitor"):
        save_text_upload(tmp_path, "../x", "a.txt", b"text")


def test_a_text_upload_with_a_bad_visitor_id_is_refused_and_nothing_is_written(tmp_path):
    from tieviz.checkpoints.uploads import save_text_upload

    with pytest.raises(ValueError, match="not a valid visitor id"):
        save_text_upload(tmp_path, "../escape", "corpus.txt", b"some words here")
    assert not any(tmp_path.rglob("*corpus.txt"))


def test_the_readme_default_relative_data_folder_works(tmp_path, monkeypatch, gpt2_dir):
    """TIEVIZ_DATA unset means ./data, relative: staging, finding and reading must still work."""
    from tieviz.experiments.catalog import data_root

    monkeypatch.delenv("TIEVIZ_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    archive = zip_dir(gpt2_dir, tmp_path / "gpt2.zip")
    for data in (data_root(), uploads.Path("data")):
        from_zip = new_upload(data, VISITOR, [("gpt2.zip", archive.read_bytes())], "gpt2.zip")
        from_files = new_upload(data, VISITOR, loose_files(gpt2_dir), "files")
        for upload in (from_zip, from_files):
            assert upload.folder.is_absolute()
            assert upload.folder.is_relative_to(tmp_path.resolve() / "data" / "uploads" / VISITOR)
            found = find_upload(data, VISITOR, upload.id)
            assert found is not None and inspect_checkpoint(found.checkpoint).vocab_size == 64


def test_remove_upload_deletes_only_that_folder(tmp_path, gpt2_dir):
    keep = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "keep")
    gone = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "gone")
    uploads.remove_upload(gone)
    assert not gone.folder.exists() and keep.folder.is_dir()


def text_upload(data, visitor: str, words: str, hours_ago: float = 0.0):
    from tieviz.checkpoints.uploads import save_text_upload

    path, _ = save_text_upload(data, visitor, "notes.txt", words.encode())
    stamp = time.time() - hours_ago * HOUR
    os.utime(path, (stamp, stamp))
    return path


def test_text_uploads_expire_and_count_towards_the_total_cap(tmp_path, gpt2_dir):
    old_text = text_upload(tmp_path, VISITOR, "old words " * 10, hours_ago=100)
    assert cleanup_uploads(tmp_path, CleanupPolicy(ttl_hours=24)) == [old_text]
    old_text = text_upload(tmp_path, VISITOR, "old words " * 10, hours_ago=100)
    other = text_upload(tmp_path, "bbbbbbbbbbbb", "recent words " * 10, hours_ago=1)
    assert not old_text.exists() and other.exists()  # the next upload, of any kind, cleans up
    upload = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "ckpt", policy=CleanupPolicy(24, 10**9))
    tight = CleanupPolicy(ttl_hours=24, max_total_bytes=folder_bytes(upload.folder) + 10)
    assert cleanup_uploads(tmp_path, tight, keep=[upload.folder]) == [other]  # the oldest goes first


def test_one_visitor_keeps_at_most_their_quota_of_uploads(tmp_path, gpt2_dir):
    policy = CleanupPolicy(max_per_visitor=2)
    first = text_upload(tmp_path, VISITOR, "one " * 10, hours_ago=3)
    second = text_upload(tmp_path, VISITOR, "two " * 10, hours_ago=2)
    neighbour = text_upload(tmp_path, "bbbbbbbbbbbb", "three " * 10, hours_ago=5)
    upload = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "ckpt", policy=policy)
    assert not first.exists() and second.exists() and upload.folder.exists()
    assert neighbour.exists()  # another visitor's uploads are not theirs to push out
    from tieviz.checkpoints.uploads import save_text_upload

    third, _ = save_text_upload(tmp_path, VISITOR, "more.txt", b"four " * 10, policy=policy)
    assert third.exists() and not second.exists() and upload.folder.exists()


def test_an_upload_over_the_visitor_byte_quota_is_refused_and_not_kept(tmp_path, gpt2_dir):
    from tieviz.checkpoints.uploads import save_text_upload
    from tieviz.training.text_file import CorpusError

    policy = CleanupPolicy(max_visitor_bytes=1000)
    with pytest.raises(CorpusError, match="limit is"):
        save_text_upload(tmp_path, VISITOR, "big.txt", b"word " * 1000, policy=policy)
    with pytest.raises(CheckpointError, match="limit"):
        new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "ckpt", policy=policy)
    assert list((tmp_path / "uploads" / VISITOR).iterdir()) == []


def test_visitor_quota_reads_the_environment(monkeypatch):
    monkeypatch.setenv(uploads.VISITOR_COUNT_ENV, "4")
    monkeypatch.setenv(uploads.VISITOR_MB_ENV, "100")
    policy = CleanupPolicy.from_env()
    assert (policy.max_per_visitor, policy.max_visitor_bytes) == (4, 100 * 2**20)


def test_strangers_cannot_push_a_visitor_within_quota_out(tmp_path, gpt2_dir):
    """Issue 18, case 4: uploads from fresh sessions evicted a victim's upload under the total cap."""
    size = folder_bytes(new_upload(tmp_path / "probe", VISITOR, loose_files(gpt2_dir), "probe").folder)
    policy = CleanupPolicy(ttl_hours=24, max_total_bytes=int(size * 2.5), max_per_visitor=3)
    victim = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "victim's", policy=policy)
    age(victim, 1)
    refused = 0
    for stranger in ("stranger0001", "stranger0002", "stranger0003"):
        try:
            new_upload(tmp_path, stranger, loose_files(gpt2_dir), "filler", policy=policy)
        except ValueError as error:
            assert "space for uploads is full" in str(error)
            refused += 1
    assert victim.folder.exists() and find_upload(tmp_path, VISITOR, victim.id) is not None
    assert refused == 2  # the first stranger fitted; the others were refused, not the victim evicted
    assert uploads.uploads_bytes(tmp_path) <= policy.max_total_bytes


def test_a_visitor_over_quota_is_the_one_cleaned_up(tmp_path, gpt2_dir):
    size = folder_bytes(new_upload(tmp_path / "probe", VISITOR, loose_files(gpt2_dir), "probe").folder)
    roomy = CleanupPolicy(ttl_hours=24, max_total_bytes=size * 10, max_visitor_bytes=size * 10)
    hog = [
        new_upload(tmp_path, "hog000000001", loose_files(gpt2_dir), f"h{i}", policy=roomy) for i in range(3)
    ]
    tight = CleanupPolicy(ttl_hours=24, max_total_bytes=int(size * 3.5), max_visitor_bytes=int(size * 2.5))
    mine = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "mine", policy=tight)
    assert mine.folder.exists() and not hog[0].folder.exists() and hog[2].folder.exists()


def test_a_refused_upload_pushes_nothing_out(tmp_path, gpt2_dir):
    """Issue 18, case 4: the clean-up ran before the page checked the upload, so refused ones evicted too."""
    victim = new_upload(tmp_path, VISITOR, loose_files(gpt2_dir), "victim", policy=CleanupPolicy(24, 10**9))
    age(victim, 1)
    tight = CleanupPolicy(24, int(folder_bytes(victim.folder) * 1.5))  # room for one upload
    broken = [(name, b"{}" if name == "config.json" else data) for name, data in loose_files(gpt2_dir)]
    with pytest.raises(CheckpointError):
        new_upload(tmp_path, "stranger0001", broken, "broken", policy=tight)
    assert victim.folder.exists()
    assert not list((tmp_path / "uploads" / "stranger0001").iterdir())


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path, gpt2_dir):
    """Issue 18, case 10: a 1000:1 zip was accepted up to the whole upload budget."""
    import zipfile

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in gpt2_dir.iterdir():
            archive.write(path, f"ckpt/{path.name}")
        archive.writestr("ckpt/pytorch_model-00002.bin", b"\0" * 30 * 2**20)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(CheckpointError, match="times its size"):
        new_upload(tmp_path, VISITOR, [("bomb.zip", bomb.read_bytes())], "bomb.zip")
    assert not list((tmp_path / "uploads" / VISITOR).iterdir())
