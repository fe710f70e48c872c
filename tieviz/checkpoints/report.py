"""The `inspect` command's output: JSON or a small table on stdout, one error line on stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tieviz.checkpoints.errors import CheckpointError
from tieviz.checkpoints.reader import CheckpointSummary, inspect_checkpoint


def format_table(summary: CheckpointSummary) -> str:
    """Aligned ``key  value`` lines for people; the JSON form is for programs."""
    rows = summary.to_json_dict()
    width = max(len(k) for k in rows)
    lines = []
    for key, value in rows.items():
        if key == "embedding_share":
            value = f"{value:.1%}"
        elif key == "n_params" or key == "weights_bytes":
            value = f"{value:,}"
        elif key in ("notes", "warnings"):
            value = " ".join(value) or "-"
        lines.append(f"{key:<{width}}  {value}")
    return "\n".join(lines)


def main_inspect(path: str, as_json: bool) -> int:
    """Print a checkpoint's summary; on a refused checkpoint print ``error: ...`` to stderr and return 2."""
    try:
        summary = inspect_checkpoint(Path(path))
    except (CheckpointError, OSError) as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return 2
    print(json.dumps(summary.to_json_dict()) if as_json else format_table(summary))
    return 0
