"""Uploads on disk, per visitor: checkpoints in <data>/uploads/<visitor>/<upload id>/, texts beside them.

Each upload folder holds ``upload.json`` (when and what was uploaded), the staged checkpoint (written by
`tieviz.checkpoints.stage_upload`, which refuses anything unsafe) and ``analysis/`` caches. A text for the
Train page is one file, <sha>-<name>. The clean-up policy runs on every new upload of either kind: it
removes uploads older than a time limit, then the oldest until the total stays under a byte cap; then the
visitor's own oldest go until they are within their quota (count and bytes), so one visitor cannot push
everyone else's uploads out. It only ever removes folders and files it recognises as uploads, inside the
uploads folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tieviz.checkpoints import inspect_checkpoint, stage_upload
from tieviz.env import env_int, env_positive
from tieviz.system.disk_usage import folder_bytes

UPLOADS = "uploads"
META = "upload.json"
TTL_ENV = "TIEVIZ_UPLOAD_TTL_HOURS"
MAX_TOTAL_ENV = "TIEVIZ_UPLOAD_MAX_TOTAL_MB"
VISITOR_COUNT_ENV = "TIEVIZ_UPLOAD_MAX_PER_VISITOR"
VISITOR_MB_ENV = "TIEVIZ_UPLOAD_MAX_VISITOR_MB"
STAGED_ENV = "TIEVIZ_UPLOAD_MAX_STAGED_MB"
DEFAULT_TTL_HOURS = 24.0
DEFAULT_MAX_TOTAL_MB = 20_480
DEFAULT_VISITOR_COUNT = 10
DEFAULT_VISITOR_MB = 8_192
DEFAULT_STAGED_MB = 4_096
_VISITOR = re.compile(r"[a-z0-9]{8,32}")
_UPLOAD_ID = re.compile(r"ck-[0-9a-f]{12}")
_TEXT_NAME = re.compile(r"[0-9a-f]{12}-[A-Za-z0-9._-]{1,60}")  # what save_text_upload writes


@dataclass(frozen=True)
class CleanupPolicy:
    """How long uploads live and how many bytes all uploads together may hold."""

    ttl_hours: float = DEFAULT_TTL_HOURS
    max_total_bytes: int = DEFAULT_MAX_TOTAL_MB * 2**20
    max_per_visitor: int = DEFAULT_VISITOR_COUNT  # uploads (checkpoints and texts) one visitor keeps
    max_visitor_bytes: int = DEFAULT_VISITOR_MB * 2**20  # and their bytes together

    @classmethod
    def from_env(cls) -> CleanupPolicy:
        """From $TIEVIZ_UPLOAD_TTL_HOURS, _MAX_TOTAL_MB, _MAX_PER_VISITOR and _MAX_VISITOR_MB."""
        return cls(
            ttl_hours=env_positive(TTL_ENV, DEFAULT_TTL_HOURS),
            max_total_bytes=int(env_positive(MAX_TOTAL_ENV, DEFAULT_MAX_TOTAL_MB) * 2**20),
            max_per_visitor=env_int(VISITOR_COUNT_ENV, DEFAULT_VISITOR_COUNT, minimum=1),
            max_visitor_bytes=int(env_positive(VISITOR_MB_ENV, DEFAULT_VISITOR_MB) * 2**20),
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


def _visitor_dirs(data: Path) -> list[Path]:
    """Each visitor's real folder under the uploads folder (links and foreign names skipped)."""
    root = uploads_root(data)
    if not _real_dir(root):
        return []
    return [d for d in root.iterdir() if _VISITOR.fullmatch(d.name) and _real_dir(d)]


def _upload_folders(data: Path) -> list[tuple[Path, float]]:
    """Every upload folder under the uploads folder (complete or not) with its age stamp."""
    found = []
    for visitor_dir in _visitor_dirs(data):
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
    data: Path,
    policy: CleanupPolicy | None = None,
    now: float | None = None,
    keep: Sequence[Path] = (),
    visitor: str | None = None,
) -> list[Path]:
    """Remove upload folders older than the policy's age limit, then the oldest until under the byte cap.

    Folders in `keep` are never removed (the upload just made). With `visitor` (whose upload triggered
    this), the byte cap removes only that visitor's uploads and those of visitors over their own quota:
    nobody within their quota loses an upload to someone else's. Returns the removed folders.
    """
    policy = policy or CleanupPolicy.from_env()
    now = time.time() if now is None else now
    kept = {Path(p).resolve() for p in keep}
    folders = sorted(_upload_folders(data) + _text_uploads(data), key=lambda item: item[1])
    removed: list[Path] = []
    survivors: list[tuple[Path, int]] = []
    for folder, stamp in folders:
        if folder.resolve() not in kept and now - stamp > policy.ttl_hours * 3600:
            removed.append(folder)
        else:
            survivors.append((folder, _entry_bytes(folder)))
    total = sum(size for _, size in survivors)
    count: dict[str, int] = {}
    held: dict[str, int] = {}
    for folder, size in survivors:
        owner = folder.parent.name
        count[owner], held[owner] = count.get(owner, 0) + 1, held.get(owner, 0) + size
    for folder, size in survivors:  # oldest first
        if total <= policy.max_total_bytes:
            break
        owner = folder.parent.name
        over_quota = count[owner] > policy.max_per_visitor or held[owner] > policy.max_visitor_bytes
        if folder.resolve() not in kept and (visitor is None or owner == visitor or over_quota):
            removed.append(folder)
            total -= size
            count[owner], held[owner] = count[owner] - 1, held[owner] - size
    for folder in removed:
        _remove(folder)
    return removed


def uploads_bytes(data: Path) -> int:
    """Bytes all uploads (checkpoints and texts) hold now."""
    return sum(_entry_bytes(path) for path, _ in _upload_folders(data) + _text_uploads(data))


def accept_upload(data: Path, visitor: str, policy: CleanupPolicy, keep: Path) -> None:
    """Makes room for an upload that was checked and accepted: the visitor's quota, then the total cap.

    Runs only after the upload is known to be usable, so a refused upload never pushes anything out. When
    the total cap cannot be met without touching visitors within their quota, the new upload is the one
    refused (removed, ValueError): one stranger cannot push everyone else's uploads out.
    """
    enforce_visitor_quota(data, visitor, policy, keep=keep)
    cleanup_uploads(data, policy, keep=[keep], visitor=visitor)
    if (total := uploads_bytes(data)) > policy.max_total_bytes:
        size = _entry_bytes(keep)
        _remove(keep)
        raise ValueError(
            f"this site's space for uploads is full ({total / 2**20:,.0f} of "
            f"{policy.max_total_bytes / 2**20:,.0f} MiB, {size / 2**20:,.1f} MiB of it yours just now); "
            "uploads expire after a while, so try again later"
        )


def _text_uploads(data: Path) -> list[tuple[Path, float]]:
    """Every text upload (a plain file named as save_text_upload names them) with its modification time."""
    found = []
    for visitor_dir in _visitor_dirs(data):
        for path in visitor_dir.iterdir():
            if _TEXT_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                try:
                    found.append((path, path.stat().st_mtime))
                except OSError:
                    continue
    return found


def _entry_bytes(path: Path) -> int:
    return folder_bytes(path) if path.is_dir() else os.lstat(path).st_size


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def enforce_visitor_quota(data: Path, visitor: str, policy: CleanupPolicy, keep: Path) -> list[Path]:
    """Removes the visitor's oldest uploads (never `keep`, the one just made) until within their quota.

    Refuses with ValueError, after removing `keep`, an upload that alone is over the visitor's byte quota.
    """
    mine = [
        (path, stamp)
        for path, stamp in _upload_folders(data) + _text_uploads(data)
        if path.parent.name == visitor
    ]
    sizes = {path: _entry_bytes(path) for path, _ in mine}
    keep = Path(keep)
    if sizes.get(keep, 0) > policy.max_visitor_bytes:
        _remove(keep)
        raise ValueError(
            f"this upload is {sizes[keep] / 2**20:,.0f} MiB; one visitor may keep "
            f"{policy.max_visitor_bytes / 2**20:,.0f} MiB of uploads on this site"
        )
    count, total = len(mine), sum(sizes.values())
    removed = []
    for path, _ in sorted(mine, key=lambda item: item[1]):  # oldest first
        if count <= policy.max_per_visitor and total <= policy.max_visitor_bytes:
            break
        if path != keep:
            _remove(path)
            removed.append(path)
            count, total = count - 1, total - sizes[path]
    return removed


def new_upload(
    data: Path,
    visitor: str,
    files: Sequence[tuple[str, bytes | Path]] | Path,
    name: str,
    max_bytes: int | None = None,
    policy: CleanupPolicy | None = None,
    check: Callable[[Path], object] | None = None,
) -> Upload:
    """Stage `files` (see `stage_upload`) as a new upload of `visitor`, check it, then apply the policy.

    `max_bytes` (default `max_staged_bytes()`, $TIEVIZ_UPLOAD_MAX_STAGED_MB) caps one staged checkpoint
    unpacked. `check(checkpoint folder)` (default: reading its config and tensor headers) must pass before
    the clean-up runs, so an upload that is then refused pushes nothing out. A single upload may not exceed
    the total cap either. On a refused upload nothing is left behind. `data` may be relative (the
    README's ./data); it is resolved here because the staged checkpoint is.
    """
    policy = policy or CleanupPolicy.from_env()
    data = Path(data).resolve()
    folder = _visitor_dir(data, visitor) / f"ck-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    try:
        cap = min(max_bytes or max_staged_bytes(), policy.max_total_bytes, policy.max_visitor_bytes)
        checkpoint = stage_upload(files, folder, max_total_bytes=cap)
        (check or inspect_checkpoint)(checkpoint)
        created = time.time()
        meta = {"name": name, "created": created, "checkpoint": str(checkpoint.relative_to(folder))}
        (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    accept_upload(data, visitor, policy, keep=folder)
    return Upload(folder.name, visitor, folder, checkpoint.resolve(), name, created)


def max_staged_bytes() -> int:
    """$TIEVIZ_UPLOAD_MAX_STAGED_MB (default 4,096): the most one checkpoint may hold once unpacked."""
    return int(env_positive(STAGED_ENV, DEFAULT_STAGED_MB) * 2**20)


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


def save_text_upload(
    data: Path, visitor: str, filename: str, raw: bytes, policy: CleanupPolicy | None = None
) -> tuple[Path, int]:
    """Keeps a corpus a visitor uploaded as <uploads>/<visitor>/<sha>-<name>; returns (path, word count).

    The name is content-addressed, so uploading the same text twice gives the same run key (and renews
    its age). A file that cannot be a corpus (not UTF-8, empty, too big) raises CorpusError and is not
    kept. Texts live under the same age limit, total cap and visitor quota as checkpoints.
    """
    from tieviz.training.text_file import MAX_CORPUS_BYTES, CorpusError, scan_text_file

    policy = policy or CleanupPolicy.from_env()
    folder = _visitor_dir(data, visitor)
    limit = min(MAX_CORPUS_BYTES, policy.max_total_bytes, policy.max_visitor_bytes)
    if len(raw) > limit:
        raise CorpusError(f"{filename} is {len(raw) / 2**20:,.0f} MiB; the limit is {limit / 2**20:,.0f} MiB")
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[-60:]
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:12]}-{safe}"
    path.write_bytes(raw)
    try:
        words = scan_text_file(path).words
    except ValueError:
        path.unlink(missing_ok=True)
        raise
    accept_upload(data, visitor, policy, keep=path)
    return path, words
