"""Uploaded checkpoints on disk: one folder per upload, <data>/uploads/<visitor>/<upload id>/, and clean-up.

Each upload folder holds ``upload.json`` (when and what was uploaded), the staged checkpoint (written by
`tieviz.checkpoints.stage_upload`, which refuses anything unsafe) and ``analysis/`` caches. The clean-up
policy runs on every new upload: it removes upload folders older than a time limit, then the oldest ones
until the total stays under a byte cap. It only ever removes folders it recognises as upload folders,
inside the uploads folder; loose files there (the Train page's text uploads) are left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tieviz.checkpoints import stage_upload
from tieviz.env import env_positive

UPLOADS = "uploads"
META = "upload.json"
TTL_ENV = "TIEVIZ_UPLOAD_TTL_HOURS"
MAX_TOTAL_ENV = "TIEVIZ_UPLOAD_MAX_TOTAL_MB"
DEFAULT_TTL_HOURS = 24.0
DEFAULT_MAX_TOTAL_MB = 20_480
_VISITOR = re.compile(r"[a-z0-9]{8,32}")
_UPLOAD_ID = re.compile(r"ck-[0-9a-f]{12}")


@dataclass(frozen=True)
class CleanupPolicy:
    """How long uploads live and how many bytes all uploads together may hold."""

    ttl_hours: float = DEFAULT_TTL_HOURS
    max_total_bytes: int = DEFAULT_MAX_TOTAL_MB * 2**20

    @classmethod
    def from_env(cls) -> CleanupPolicy:
        """$TIEVIZ_UPLOAD_TTL_HOURS (default 24) and $TIEVIZ_UPLOAD_MAX_TOTAL_MB (default 20480)."""
        return cls(
            ttl_hours=env_positive(TTL_ENV, DEFAULT_TTL_HOURS),
            max_total_bytes=int(env_positive(MAX_TOTAL_ENV, DEFAULT_MAX_TOTAL_MB) * 2**20),
        )


@dataclass(frozen=True)
class Upload:
    """One staged checkpoint: its upload folder, the folder holding config.json, and what was uploaded."""

    id: str
    visitor: str
    folder: Path  # <data>/uploads/<visitor>/<id>
    checkpoint: Path  # the staged checkpoint directory (holds config.json), inside `folder`
    name: str  # what the user uploaded, for display
    created: float  # seconds since the epoch

    def cache_dir(self, name: str) -> Path:
        """<folder>/analysis/<name>, created on demand: where this upload's analyses are cached."""
        path = self.folder / "analysis" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def uploads_root(data: Path) -> Path:
    return Path(data) / UPLOADS


def _visitor_dir(data: Path, visitor: str) -> Path:
    if not _VISITOR.fullmatch(visitor):
        raise ValueError(f"{visitor!r} is not a valid visitor id.")
    return uploads_root(data) / visitor


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _folder_bytes(folder: Path) -> int:
    """Bytes of the plain files under `folder`, following no links."""
    total = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return total


def _read_upload(folder: Path, visitor: str) -> Upload | None:
    """The upload stored in `folder`, or None when it is not (or no longer) a complete upload folder."""
    if not (_UPLOAD_ID.fullmatch(folder.name) and _real_dir(folder)):
        return None
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        checkpoint = (folder / meta["checkpoint"]).resolve()
        if not checkpoint.is_relative_to(folder.resolve()):
            return None
        return Upload(folder.name, visitor, folder, checkpoint, str(meta["name"]), float(meta["created"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _upload_folders(data: Path) -> list[tuple[Path, float]]:
    """Every upload folder under the uploads folder (complete or not) with its age stamp."""
    root = uploads_root(data)
    if not _real_dir(root):
        return []
    found = []
    for visitor_dir in root.iterdir():
        if not (_VISITOR.fullmatch(visitor_dir.name) and _real_dir(visitor_dir)):
            continue
        for folder in visitor_dir.iterdir():
            if _UPLOAD_ID.fullmatch(folder.name) and _real_dir(folder):
                upload = _read_upload(folder, visitor_dir.name)
                try:
                    stamp = upload.created if upload else folder.stat().st_mtime
                except OSError:
                    continue
                found.append((folder, stamp))
    return found


def cleanup_uploads(
    data: Path, policy: CleanupPolicy | None = None, now: float | None = None, keep: Sequence[Path] = ()
) -> list[Path]:
    """Remove upload folders older than the policy's age limit, then the oldest until under the byte cap.

    Folders in `keep` are never removed (the upload just made). Returns the removed folders.
    """
    policy = policy or CleanupPolicy.from_env()
    now = time.time() if now is None else now
    kept = {Path(p).resolve() for p in keep}
    folders = sorted(_upload_folders(data), key=lambda item: item[1])
    removed: list[Path] = []
    survivors: list[tuple[Path, int]] = []
    for folder, stamp in folders:
        if folder.resolve() not in kept and now - stamp > policy.ttl_hours * 3600:
            removed.append(folder)
        else:
            survivors.append((folder, _folder_bytes(folder)))
    total = sum(size for _, size in survivors)
    for folder, size in survivors:  # oldest first
        if total <= policy.max_total_bytes:
            break
        if folder.resolve() not in kept:
            removed.append(folder)
            total -= size
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def new_upload(
    data: Path,
    visitor: str,
    files: Sequence[tuple[str, bytes]] | Path,
    name: str,
    max_bytes: int = 4 * 2**30,
    policy: CleanupPolicy | None = None,
) -> Upload:
    """Stage `files` (see `stage_upload`) as a new upload of `visitor`, then apply the clean-up policy.

    A single upload may not exceed the total cap either. On a refused upload nothing is left behind.
    `data` may be relative (the README's ./data); it is resolved here because the staged checkpoint is.
    """
    policy = policy or CleanupPolicy.from_env()
    data = Path(data).resolve()
    folder = _visitor_dir(data, visitor) / f"ck-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    try:
        checkpoint = stage_upload(files, folder, max_total_bytes=min(max_bytes, policy.max_total_bytes))
        created = time.time()
        meta = {"name": name, "created": created, "checkpoint": str(checkpoint.relative_to(folder))}
        (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    cleanup_uploads(data, policy, keep=[folder])
    return Upload(folder.name, visitor, folder, checkpoint.resolve(), name, created)


def remove_upload(upload: Upload) -> None:
    """Delete an upload's folder: a staged checkpoint that then failed to load is not kept."""
    folder = upload.folder
    if _UPLOAD_ID.fullmatch(folder.name) and _real_dir(folder):
        shutil.rmtree(folder, ignore_errors=True)


def find_upload(data: Path, visitor: str, upload_id: str) -> Upload | None:
    """The visitor's upload with this id, or None when it does not exist (any more)."""
    if not _UPLOAD_ID.fullmatch(upload_id):
        return None
    return _read_upload(_visitor_dir(data, visitor) / upload_id, visitor)


def list_uploads(data: Path, visitor: str) -> list[Upload]:
    """The visitor's complete uploads, newest first."""
    folder = _visitor_dir(data, visitor)
    if not _real_dir(folder):
        return []
    uploads = [u for p in folder.iterdir() if (u := _read_upload(p, visitor)) is not None]
    return sorted(uploads, key=lambda u: -u.created)


def save_text_upload(data: Path, visitor: str, filename: str, raw: bytes) -> tuple[Path, int]:
    """Keeps a corpus a visitor uploaded as <uploads>/<visitor>/<sha>-<name>; returns (path, word count).

    The name is content-addressed, so uploading the same text twice gives the same run key. A file that
    cannot be a corpus (not UTF-8, empty, too big) raises CorpusError and is not kept.
    """
    from tieviz.data import read_text_file

    folder = _visitor_dir(data, visitor)
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[-60:]
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:12]}-{safe}"
    path.write_bytes(raw)
    try:
        return path, len(read_text_file(path).split())
    except ValueError:
        path.unlink(missing_ok=True)
        raise
