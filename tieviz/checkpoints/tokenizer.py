"""An upload's tokenizer, loaded once, after size, entry and pattern checks, with Rust panics as one error.

Hugging Face tokenizers run in Rust. A 198 MB tokenizer.json with 10 million entries took 4.3 GB and two
minutes to load, a million added tokens over eight minutes; a pre-tokenizer that splits on
`(\\w+\\s?)*$` backtracked for a minute per page run and then panicked. A Rust panic arrives as
`pyo3_runtime.PanicException`, a BaseException that `except Exception` lets through, so it killed the
page's script thread. Hence: the files are measured before anything parses them, their entries counted
before Rust sees them, every regex they carry is checked for nested quantifiers (see `risky_pattern`),
and every call into the tokenizer goes through `tokenizer_call`, which turns a panic into a
CheckpointError.

Why reject risky patterns instead of time-boxing them: a running Rust call cannot be interrupted from
Python (it holds the thread until it returns), so a time box needs a separate process per tokenizer use,
which costs a process start and a second load of the tokenizer on every page run. Catastrophic
backtracking needs a quantified group that itself holds a quantifier; the patterns real tokenizers use
(GPT-2, GPT-4's cl100k, Llama 3, Qwen, Gemma) have none, so refusing them loses no real checkpoint.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tieviz.checkpoints.errors import CheckpointError
from tieviz.env import env_int

MAX_BYTES_ENV = "TIEVIZ_TOKENIZER_MAX_MB"
MAX_ENTRIES_ENV = "TIEVIZ_TOKENIZER_MAX_ENTRIES"
MAX_ADDED_ENV = "TIEVIZ_TOKENIZER_MAX_ADDED"
DEFAULT_MAX_MB = 64  # all tokenizer files together; Gemma 3's tokenizer.json, among the largest, is 33 MB
DEFAULT_MAX_ENTRIES = 1_000_000  # vocabulary entries, and merges; the largest real vocabularies are ~260k
DEFAULT_MAX_ADDED = 20_000  # added tokens: each one costs Rust far more than a vocabulary entry
FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
    "spiece.model",
)
T = TypeVar("T")


def is_panic(error: BaseException) -> bool:
    """Whether `error` is a Rust panic surfaced by pyo3 (`pyo3_runtime.PanicException`)."""
    return type(error).__name__ == "PanicException"


def tokenizer_call(what: str, call: Callable[[], T]) -> T:
    """`call()`, with a Rust panic in the tokenizer turned into one CheckpointError saying `what` failed."""
    try:
        return call()
    except BaseException as error:
        if is_panic(error):
            raise CheckpointError(
                f"The checkpoint's tokenizer crashed while {what} (a panic in the tokenizers library); "
                "its files are not usable here."
            ) from None
        raise


_QUANTIFIER = re.compile(r"[*+?]|\{\d*,?\d*\}")


def risky_pattern(pattern: str) -> bool:
    """Whether a regex has a group repeated without bound that itself holds a quantifier: `(\\w+\\s?)*`.

    That shape (star height 2) is what makes a backtracking engine try exponentially many splits of a
    string that does not match. Escapes and character classes are skipped; lookarounds count as groups.
    """
    stack: list[bool] = []  # per open group: whether it holds a quantifier so far
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if c == "(":
            stack.append(False)
            i += 1
            if i < n and pattern[i] == "?":  # (?:, (?i:, (?= ... : not a quantifier
                i += 1
            continue
        if c == ")":
            inner = stack.pop() if stack else False
            i += 1
            after = _QUANTIFIER.match(pattern, i)
            if after and inner and (after.group() in ("*", "+") or after.group().rstrip("}").endswith(",")):
                return True
            if after and stack:
                stack[-1] = True
            if inner and stack:
                stack[-1] = True
            continue
        if _QUANTIFIER.match(pattern, i) and stack:
            stack[-1] = True
        i += 1
    return False


def _patterns(node: Any) -> list[str]:
    """Every regex in a tokenizer.json component (`{"Regex": "..."}` in Split, Replace and others)."""
    if isinstance(node, dict):
        found = [node["Regex"]] if isinstance(node.get("Regex"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | dict) else 0


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def check_tokenizer_files(folder: Path) -> None:
    """Refuses, before any tokenizer library reads them, tokenizer files too big, too many or too risky."""
    folder = Path(folder)
    max_bytes = env_int(MAX_BYTES_ENV, DEFAULT_MAX_MB, minimum=1) * 2**20
    max_entries = env_int(MAX_ENTRIES_ENV, DEFAULT_MAX_ENTRIES, minimum=1)
    max_added = env_int(MAX_ADDED_ENV, DEFAULT_MAX_ADDED, minimum=1)
    present = [folder / name for name in FILES if (folder / name).is_file()]
    total = sum(path.stat().st_size for path in present)
    if total > max_bytes:
        raise CheckpointError(
            f"The tokenizer files are {total / 2**20:,.0f} MiB; this site reads at most "
            f"{max_bytes // 2**20:,} MiB of them ({MAX_BYTES_ENV})."
        )
    for name in ("vocab.json", "vocab.txt", "merges.txt"):
        if (folder / name).is_file() and _lines(folder / name) > max_entries:
            raise CheckpointError(f"{name} has more than {max_entries:,} entries ({MAX_ENTRIES_ENV}).")
    added = 0
    for name, key in (("tokenizer_config.json", "added_tokens_decoder"), ("added_tokens.json", None)):
        if (folder / name).is_file():
            data = _json(folder / name)
            added = max(added, _count(data.get(key) if key else data) if isinstance(data, dict) else 0)
    if (folder / "tokenizer.json").is_file():
        data = _json(folder / "tokenizer.json")
        if not isinstance(data, dict):
            raise CheckpointError("tokenizer.json does not hold a tokenizer.")
        model = data.get("model") if isinstance(data.get("model"), dict) else {}
        entries = max(_count(model.get("vocab")), _count(model.get("merges")))
        if entries > max_entries:
            raise CheckpointError(
                f"tokenizer.json lists {entries:,} vocabulary entries or merges; this site reads at most "
                f"{max_entries:,} ({MAX_ENTRIES_ENV})."
            )
        added = max(added, _count(data.get("added_tokens")))
        for pattern in _patterns([data.get("normalizer"), data.get("pre_tokenizer")]):
            if risky_pattern(pattern):
                shown = pattern if len(pattern) <= 60 else pattern[:57] + "…"
                raise CheckpointError(
                    f"The tokenizer splits text with the pattern {shown!r}, which repeats a repeated group "
                    "and can take minutes on one line of text; this site does not run it."
                )
    if added > max_added:
        raise CheckpointError(
            f"The tokenizer adds {added:,} tokens; this site reads at most {max_added:,} ({MAX_ADDED_ENV})."
        )


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:
        raise CheckpointError(f"{path.name} is not valid JSON.") from error


def _stamp(folder: Path) -> tuple:
    """What identifies the tokenizer files' current contents cheaply: names, sizes and change times."""
    stamps = []
    for name in FILES:
        try:
            stat = (folder / name).stat()
        except OSError:
            continue
        stamps.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def load_tokenizer(folder: Path) -> Any:
    """The checkpoint's tokenizer (transformers', local files only, no remote code), loaded once.

    Raises CheckpointError for files refused by `check_tokenizer_files`, a panic, or files that do not
    load; callers decide whether to go on without a tokenizer.
    """
    folder = Path(folder).resolve()
    return _load(str(folder), _stamp(folder))


@functools.lru_cache(maxsize=4)
def _load(folder: str, stamp: tuple) -> Any:
    """Cached on the files' stamp: the labels and the text of one page run share one tokenizer."""
    check_tokenizer_files(Path(folder))
    from transformers import AutoTokenizer

    try:
        return tokenizer_call(
            "loading",
            lambda: AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False),
        )
    except CheckpointError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever the library raises: one line naming its type
        raise CheckpointError(
            f"The checkpoint's tokenizer could not be loaded ({type(error).__name__})."
        ) from None
