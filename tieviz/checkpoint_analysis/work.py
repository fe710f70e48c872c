"""What a checkpoint job does (see `tieviz.jobs.checkpoint`), and reading its results back for the page.

Each task reads its inputs from paths named in the task, writes its results into the job's result folder
as JSON and .npz (never pickle: a page reads them back), and reports progress as (stage, fraction).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tieviz.checkpoint_analysis.token_text import TokenText

Progress = Callable[[str, float], None]
RESULT = "result.json"
ARRAYS = "arrays.npz"
INCOMING_MANIFEST = "manifest.json"


# ---------------------------------------------------------------- handing uploaded files to a worker


def write_incoming(folder: Path, files: list[tuple[str, bytes]]) -> Path:
    """Writes uploaded (name, bytes) pairs into `folder` for a staging job; names kept, duplicates too."""
    folder.mkdir(parents=True, exist_ok=False)
    for index, (_, data) in enumerate(files):
        (folder / f"{index:05d}").write_bytes(data)
    (folder / INCOMING_MANIFEST).write_text(json.dumps([name for name, _ in files]), encoding="utf-8")
    return folder


def _read_incoming(folder: Path) -> list[tuple[str, Path]]:
    """The uploaded files' names and where their bytes lie: staging streams them, never reads one whole."""
    names = json.loads((folder / INCOMING_MANIFEST).read_text(encoding="utf-8"))
    return [(str(name), folder / f"{index:05d}") for index, name in enumerate(names)]


# ---------------------------------------------------------------- the tasks


def run_task(data: Path, out: Path, task: dict[str, Any], progress: Progress) -> None:
    """Runs one checkpoint task, writing its results into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    kind = task["task"]
    if kind == "stage":
        _stage(data, out, task, progress)
    elif kind == "text":
        _text(out, task, progress)
    elif kind == "compare":
        _compare(out, task, progress)
    elif kind == "lens":
        _lens(out, task, progress)
    elif kind == "series":
        _series(out, task, progress)
    else:
        raise ValueError(f"unknown checkpoint task {kind!r}")


def _write(out: Path, result: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> None:
    if arrays:
        np.savez(out / ARRAYS, **arrays)
    (out / RESULT).write_text(json.dumps(result), encoding="utf-8")


def _stage(data: Path, out: Path, task: dict[str, Any], progress: Progress) -> None:
    from tieviz.checkpoint_analysis.loaded import load_checkpoint
    from tieviz.checkpoints import uploads

    incoming = Path(task["incoming"])
    try:
        progress("unpacking and checking the files", 0.1)
        policy = uploads.CleanupPolicy(**task["policy"]) if task.get("policy") else None  # the server's
        upload = uploads.new_upload(
            data,
            task["visitor"],
            _read_incoming(incoming),
            task["name"],
            max_bytes=task.get("max_bytes"),
            policy=policy,
            check=load_checkpoint,  # read before the clean-up: a refused upload pushes nothing out
        )
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    _write(out, {"upload_id": upload.id})


def _text(out: Path, task: dict[str, Any], progress: Progress) -> None:
    from tieviz.checkpoint_analysis.token_text import tokenize_text
    from tieviz.training.corpus import pydocs_text

    progress("reading the text with the checkpoint's tokenizer", 0.1)
    text = pydocs_text() if not task.get("text") else Path(task["text"])  # a file: read piece by piece
    tokens = tokenize_text(Path(task["checkpoint"]), text, int(task["vocab_size"]), task["source"])
    arrays = {} if tokens.ids is None else {"ids": tokens.ids, "counts": tokens.counts}
    _write(
        out, {"special_ids": list(tokens.special_ids), "source": tokens.source, "note": tokens.note}, arrays
    )


def read_text(out: Path) -> TokenText:
    """The TokenText a text task wrote."""
    meta = json.loads((out / RESULT).read_text(encoding="utf-8"))
    arrays = np.load(out / ARRAYS) if (out / ARRAYS).exists() else None
    ids = None if arrays is None else arrays["ids"]
    counts = None if arrays is None else arrays["counts"]
    return TokenText(ids, counts, tuple(meta["special_ids"]), meta["source"], meta["note"])


def _token_ids(task: dict[str, Any], vocab_size: int) -> np.ndarray | None:
    """None for all tokens, else the `tokens` most frequent in the text the task names (first ids without)."""
    tokens = int(task["tokens"])
    if tokens >= vocab_size:
        return None
    return _task_text(task).top_ids(vocab_size, tokens)


def _task_text(task: dict[str, Any]) -> TokenText:
    """The text a task names: a run's own corpus ("run"), a text job's result ("frequency"), or none."""
    if task.get("run"):  # an example checkpoint: its run's own corpus
        from tieviz.checkpoint_analysis.token_text import text_from_run
        from tieviz.training.run_store import Run

        return text_from_run(Run(Path(task["run"])))
    if task.get("frequency"):
        return read_text(Path(task["frequency"]))
    return TokenText(None, None, (), "")


def _compare(out: Path, task: dict[str, Any], progress: Progress) -> None:
    from tieviz.checkpoint_analysis.loaded import load_checkpoint
    from tieviz.checkpoint_analysis.pair import compare_pair

    progress("reading the two checkpoints", 0.05)
    a, b = load_checkpoint(Path(task["a"])), load_checkpoint(Path(task["b"]))
    ids = _token_ids(task, a.summary.vocab_size)
    result = compare_pair(a, b, ids, progress=lambda stage, f: progress(stage, 0.1 + 0.9 * f))
    result.save(out)


def _lens(out: Path, task: dict[str, Any], progress: Progress) -> None:
    from tieviz.checkpoint_analysis.analyses import checkpoint_lens

    text = _task_text(task)
    if text.ids is None:
        raise ValueError("The tuned lens needs a text read with the checkpoint's tokenizer, and it has none.")
    result = checkpoint_lens(
        Path(task["checkpoint"]),
        text,
        Path(task["cache_dir"]),
        progress=lambda done, total: progress("fitting one translator per layer", done / max(total, 1)),
    )
    stats = {
        name: {
            "kl": getattr(result, name).kl.tolist(),
            "cross_entropy": getattr(result, name).cross_entropy.tolist(),
            "layer_names": list(getattr(result, name).layer_names),
        }
        for name in ("tuned", "logit")
    }
    meta = {
        "fit_windows": result.fit_windows,
        "score_windows": result.score_windows,
        "held_out": result.held_out,
        "contributions": np.asarray(result.contributions).tolist(),
    }
    _write(out, stats | meta)


def read_lens(out: Path):
    """The LensResult a lens task wrote."""
    from tieviz.analysis.lens import LensStatistics
    from tieviz.experiments.run_analysis import LensResult

    saved = json.loads((out / RESULT).read_text(encoding="utf-8"))
    stats = {
        name: LensStatistics(
            np.asarray(saved[name]["kl"]),
            np.asarray(saved[name]["cross_entropy"]),
            saved[name]["layer_names"],
        )
        for name in ("tuned", "logit")
    }
    return LensResult(
        stats["tuned"],
        stats["logit"],
        np.asarray(saved["contributions"]),
        saved["fit_windows"],
        saved["score_windows"],
        saved["held_out"],
    )


@dataclass(frozen=True)
class SeriesRow:
    label: str  # the checkpoint's name (its training step when it has one)
    step: int | None
    bias: float  # linear-map cosine, output minus input
    out: float
    in_: float
    chance: float
    tokens: int


def _series(out: Path, task: dict[str, Any], progress: Progress) -> None:
    """`compare_series` (the untied matrices prepared once) when every folder's own name states its step,
    as a host's step checkpoints do; otherwise (uploads, whose folders are named by staging) one
    `compare` per checkpoint, in the order and with the steps the page read from their names."""
    from tieviz.checkpoint_analysis.host_models import step_of
    from tieviz.checkpoint_analysis.loaded import load_checkpoint
    from tieviz.checkpoint_analysis.pair import compare_pair

    folder_steps = [step_of(Path(path).name) for path in task["tied"]]
    stepped = list(task["steps"]) == folder_steps and len(set(folder_steps)) == len(folder_steps)
    every_token = int(task["tokens"]) >= int(task.get("vocab") or 0) > 0
    if stepped and (every_token or not task.get("frequency")):  # compare_series takes no frequent ids
        _write(out, {"points": _prepared_series(task, progress)})
        return
    untied = load_checkpoint(Path(task["untied"]))
    points = []
    for index, (path, label, step) in enumerate(
        zip(task["tied"], task["labels"], task["steps"], strict=True)
    ):
        share = 1 / len(task["tied"])
        progress(f"checkpoint {index + 1} of {len(task['tied'])}: {label}", index * share)
        tied = load_checkpoint(Path(path))
        ids = _token_ids(task, tied.summary.vocab_size)
        pair = compare_pair(
            tied, untied, ids, progress=lambda stage, f, i=index, s=share: progress(stage, (i + f) * s)
        )
        lin_out, lin_in = pair.scores["lin_cos_out"], pair.scores["lin_cos_in"]
        points.append(
            {
                "label": label,
                "step": step,
                "bias": lin_out - lin_in,
                "out": lin_out,
                "in_": lin_in,
                "chance": pair.chance["lin_cos"],
                "tokens": pair.tokens,
            }
        )
    _write(out, {"points": points})


def _prepared_series(task: dict[str, Any], progress: Progress) -> list[dict[str, Any]]:
    from tieviz.checkpoint_analysis.series import compare_series

    tokens = int(task["tokens"])
    vocab = int(task.get("vocab") or 0)
    series = compare_series(
        list(task["tied"]),
        task["untied"],
        tokens="all" if vocab and tokens >= vocab else tokens,
        progress=progress,
    )
    labels = dict(zip(task["steps"], task["labels"], strict=True))
    rows = []
    for point in series.points:
        lin = point.comparison.rows["lin_cos"]
        rows.append(
            {
                "label": labels.get(point.step, point.name),
                "step": point.step,
                "bias": lin.bias,
                "out": lin.out,
                "in_": lin.inp,
                "chance": lin.chance,
                "tokens": point.comparison.n_tokens,
            }
        )
    return rows


def read_series(out: Path) -> list[SeriesRow]:
    saved = json.loads((out / RESULT).read_text(encoding="utf-8"))
    return [SeriesRow(**p) for p in saved["points"]]


def read_result(out: Path) -> dict[str, Any]:
    return json.loads((out / RESULT).read_text(encoding="utf-8"))
