"""Stage an uploaded checkpoint (a folder, a zip, or loose files) into one upload folder, safely.

Nothing is executed and nothing is written outside ``dest_dir``: zip entries with absolute paths,
``..``, symlinks or encryption are refused, and sizes are enforced while bytes are written rather
than trusted from headers, so a zip bomb stops after ``max_total_bytes``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from tieviz.checkpoints.errors import CheckpointError

MAX_ENTRIES = 2000
MAX_DEPTH = 8
MAX_CENTRAL_DIRECTORY = 16 * 2**20  # 2,000 entries with long names fit easily
# Weights barely compress (safetensors of a trained model: 1.1-1.3x, tokenizer.json ~5x); a zip that
# claims 1000x is a bomb meant to fill the upload space. Below RATIO_FLOOR bytes the ratio is not judged.
MAX_RATIO = 50
RATIO_FLOOR = 8 * 2**20
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes)
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator (20 bytes)
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (56 bytes)
_CHUNK = 1 << 20
_WANTED = re.compile(
    r"^(config\.json|generation_config\.json|.+\.safetensors|.+\.safetensors\.index\.json"
    r"|pytorch_model.*\.bin|pytorch_model\.bin\.index\.json|tokenizer\.json|tokenizer_config\.json"
    r"|tokenizer\.model|special_tokens_map\.json|added_tokens\.json|vocab\.json|vocab\.txt|merges\.txt"
    r"|spiece\.model)$"
)


class _Budget:
    """A running count of bytes written, so the limit holds whatever headers claim."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise CheckpointError(f"The upload unpacks to more than the limit of {_fmt(self.limit)}.")


def _fmt(n: int) -> str:
    if n < 2**20:
        return f"{n / 2**10:.0f} KiB"
    return f"{n / 2**20:.0f} MiB" if n < 2**30 else f"{n / 2**30:.1f} GiB"


def _wanted(parts: list[str]) -> bool:
    """Checkpoint files only; macOS resource forks and everything else are skipped, not written."""
    if any(p.startswith("__MACOSX") for p in parts) or parts[-1].startswith("._"):
        return False
    return bool(_WANTED.match(parts[-1]))


def _safe_parts(name: str) -> list[str]:
    """The path components of an archive entry, refusing anything that could leave the upload folder."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean):
        raise CheckpointError(f"The archive entry '{name}' has an absolute path.")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise CheckpointError(f"The archive entry '{name}' points outside the upload folder.")
    if len(parts) > MAX_DEPTH:
        raise CheckpointError(f"The archive entry '{name}' is nested more than {MAX_DEPTH} folders deep.")
    return parts


def _target(root: Path, parts: list[str]) -> Path:
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root):
        raise CheckpointError(f"The file '{'/'.join(parts)}' would be written outside the upload folder.")
    return target


def _write_stream(src: BinaryIO, target: Path, budget: _Budget, expected: int | None = None) -> None:
    """Copy in chunks, counting every byte against the budget (and against the entry's declared size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(target, "xb") as dst:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if expected is not None and written > expected:
                raise CheckpointError(f"The archive entry '{target.name}' is larger than its header says.")
            budget.take(len(chunk))
            dst.write(chunk)


def _declared_entries(source: BinaryIO) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end-of-central-directory record, without parsing it.

    `zipfile.ZipFile` reads the whole central directory into memory first, which for a zip listing
    millions of entries takes a minute and gigabytes; this reads at most the last 64 KiB.
    """
    size = source.seek(0, os.SEEK_END)
    tail_start = max(0, size - (_EOCD.size + 0xFFFF))
    source.seek(tail_start)
    tail = source.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    _, _, _, _, entries, cd_size, _, _ = _EOCD.unpack_from(tail, at)
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        _, _, zip64_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, locator_at)
        if zip64_offset + _ZIP64_EOCD.size <= size:
            source.seek(zip64_offset)
            record = source.read(_ZIP64_EOCD.size)
            if record[:4] == b"PK\x06\x06":
                fields = _ZIP64_EOCD.unpack(record)
                entries, cd_size = max(entries, fields[7]), max(cd_size, fields[8])
    source.seek(0)
    return entries, cd_size


def _check_entry_count(source: BinaryIO) -> None:
    """Refuse a zip whose end record lists too many entries or too big a directory, before parsing it."""
    declared = _declared_entries(source)
    if declared is None:
        raise CheckpointError("The upload is not a valid zip archive.")
    entries, cd_size = declared
    if entries > MAX_ENTRIES:
        raise CheckpointError(f"The archive lists {entries:,} entries; at most {MAX_ENTRIES:,} are allowed.")
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise CheckpointError(
            f"The archive's directory is {_fmt(cd_size)}, more than {MAX_ENTRIES:,} entries need."
        )


def _extract_zip(source: BinaryIO, root: Path, budget: _Budget) -> None:
    _check_entry_count(source)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CheckpointError("The upload is not a valid zip archive.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise CheckpointError(f"The archive has {len(infos)} entries; at most {MAX_ENTRIES} are allowed.")
        plan, seen, declared = [], set(), 0
        for info in infos:
            parts = _safe_parts(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise CheckpointError(f"The archive entry '{info.filename}' is a symbolic link.")
            if info.flag_bits & 0x1:
                raise CheckpointError(f"The archive entry '{info.filename}' is encrypted.")
            if info.is_dir() or not parts or not _wanted(parts):
                continue
            key = "/".join(parts).lower()
            if key in seen:
                raise CheckpointError(f"The archive holds '{info.filename}' more than once.")
            seen.add(key)
            declared += info.file_size
            plan.append((info, parts))
        if declared > budget.limit:
            raise CheckpointError(
                f"The archive declares {_fmt(declared)} uncompressed, over the limit of {_fmt(budget.limit)}."
            )
        packed = source.seek(0, os.SEEK_END)
        source.seek(0)
        if declared > RATIO_FLOOR and declared > MAX_RATIO * max(packed, 1):
            raise CheckpointError(
                f"The archive unpacks to {declared / max(packed, 1):,.0f} times its size "
                f"({_fmt(declared)} from {_fmt(packed)}); checkpoints compress far less "
                f"(at most {MAX_RATIO}:1 is accepted)."
            )
        for info, parts in plan:
            try:
                with archive.open(info) as src:
                    _write_stream(src, _target(root, parts), budget, expected=info.file_size)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise CheckpointError(f"The archive entry '{info.filename}' is corrupt ({exc}).") from exc


def _copy_dir(src_dir: Path, root: Path, budget: _Budget) -> None:
    for path in sorted(src_dir.rglob("*")):
        parts = list(path.relative_to(src_dir).parts)
        if path.is_file() and _wanted(parts) and len(parts) <= MAX_DEPTH:
            with open(path, "rb") as src:
                _write_stream(src, _target(root, parts), budget)


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _stage_into(files: Sequence[tuple[str, bytes | Path]] | Path | str, root: Path, budget: _Budget) -> None:
    if isinstance(files, (str, Path)):
        path = Path(files)
        if path.is_dir():
            _copy_dir(path, root, budget)
        elif path.is_file() and (_is_zip_name(path.name) or zipfile.is_zipfile(path)):
            with open(path, "rb") as fh:
                _extract_zip(fh, root, budget)
        elif path.is_file():
            if not _wanted([path.name]):
                raise CheckpointError(
                    f"'{path.name}' is not a checkpoint folder, a zip archive or a checkpoint file."
                )
            with open(path, "rb") as fh:
                _write_stream(fh, _target(root, _safe_parts(path.name)), budget)
        else:
            raise CheckpointError(f"'{path}' does not exist.")
        return
    items = list(files)
    if not items:
        raise CheckpointError("No files were uploaded.")
    if any(_is_zip_name(name) for name, _ in items):
        if len(items) != 1:
            raise CheckpointError("Upload either one zip archive or the separate checkpoint files, not both.")
        with _opened(items[0][1]) as source:
            _extract_zip(source, root, budget)
        return
    seen: set[str] = set()
    for name, data in items:
        parts = _safe_parts(name)
        if len(parts) != 1:
            raise CheckpointError(f"The uploaded file name '{name}' must be a plain file name.")
        if parts[0].lower() in seen:
            raise CheckpointError(f"'{parts[0]}' was uploaded twice; upload each file once.")
        seen.add(parts[0].lower())
        if _wanted(parts):
            with _opened(data) as source:
                _write_stream(source, _target(root, parts), budget)


def _opened(data: bytes | Path) -> BinaryIO:
    """An uploaded file's contents as a stream: bytes in memory, or a file on disk read in chunks (a
    staging job gets the upload as files, so a multi-GB checkpoint is never held in memory whole)."""
    return io.BytesIO(data) if isinstance(data, bytes | bytearray) else open(data, "rb")  # noqa: SIM115


def _checkpoint_dir(root: Path) -> Path:
    """The folder of the shallowest config.json, as for a folder given directly.

    A Trainer output folder holds the final model at the top and ``checkpoint-500/`` below it; the top
    one is the model. Two config.json at the same shallowest depth are two checkpoints: refused.
    """
    configs = sorted(root.rglob("config.json"))
    if not configs:
        raise CheckpointError("The upload has no config.json.")
    top = min(len(c.parts) for c in configs)
    shallowest = [c for c in configs if len(c.parts) == top]
    if len(shallowest) > 1:
        raise CheckpointError("The upload holds more than one config.json; upload one checkpoint at a time.")
    return shallowest[0].parent


def stage_upload(
    files: Sequence[tuple[str, bytes | Path]] | Path, dest_dir: Path, max_total_bytes: int = 4 * 2**30
) -> Path:
    """Copy or unpack a checkpoint into a fresh folder in ``dest_dir``; return the folder with config.json.

    ``files`` is a path (a directory, a .zip, or one file) or uploaded ``(name, contents)`` pairs, possibly
    a single zip, each contents bytes or the path of a file holding them. On any refusal the fresh
    folder is removed, so a failed upload leaves nothing behind.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="upload-", dir=dest_dir)).resolve()
    try:
        _stage_into(files, root, _Budget(max_total_bytes))
        return _checkpoint_dir(root)
    except OSError as exc:  # a disk or file error: say what, never the server's path
        shutil.rmtree(root, ignore_errors=True)
        raise CheckpointError(
            f"The upload could not be written ({exc.strerror or type(exc).__name__})."
        ) from None
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
