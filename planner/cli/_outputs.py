"""Output options and summaries shared by the commands that write a folder (``run``, ``export``).

Both write all-or-nothing (:func:`planner.export.output_dir.atomic_output_dir`): a non-empty
``--out`` is refused before any work starts unless ``--overwrite``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace the files a previous run or export wrote in a non-empty --out (other files are kept).",
    ),
]


def check_out(out: Path, *, overwrite: bool) -> None:
    """Refuse a non-empty ``--out`` before the run starts (not after minutes of work)."""
    from planner.export.output_dir import check_output_dir

    check_output_dir(out, overwrite=overwrite)
