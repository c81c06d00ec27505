"""Output folders that are either complete or absent: write next to ``--out``, then rename.

:func:`atomic_output_dir` gives a temporary folder beside the destination (same file system, so the
final rename is atomic); the caller writes every file into it, ``manifest.json`` last, and on
success the folder takes the destination's name. An interrupted or failed write leaves at most a
``.NAME.planner-tmp-*`` folder, which :func:`~planner.export.plan_files.read_plan` refuses, and
never a folder that looks like a finished plan.

A non-empty destination is refused unless ``overwrite``: then only the files the planner wrote
there before (listed in that folder's ``manifest.json``) are removed; any other file stays. Disk-full,
read-only and permission errors become one :class:`~planner.errors.DataLoadError` naming the
folder and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from planner.errors import ConfigError, DataLoadError, PlannerError

logger = logging.getLogger(__name__)

TMP_TAG = ".planner-tmp-"
MANIFEST = "manifest.json"
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EFBIG}
_WRITE_WORDS = (
    "no space left",
    "disk full",
    "quota",
    "permission denied",
    "read-only file system",
    "file too large",
)


def is_temporary(folder: str | Path) -> bool:
    """True for the temporary folder of an unfinished (or interrupted) write."""
    return TMP_TAG in Path(folder).name


def previous_files(folder: Path) -> list[Path]:
    """Files a planner run or export wrote into ``folder`` (from its manifest), existing ones only."""
    manifest = folder / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    listed = data.get("files") or (data.get("export") or {}).get("files") or []
    out = [manifest]
    for item in listed:
        rel = item.get("path") if isinstance(item, dict) else None
        if not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
            continue
        path = folder / rel
        if path.is_file():
            out.append(path)
    return out


def check_output_dir(out: str | Path, *, overwrite: bool) -> Path:
    """Refuse a destination that is a file, or a non-empty folder without ``overwrite``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder. Give a folder (it is created).")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(
            f"--out {out} is not empty. Give a new or empty folder, or pass --overwrite to replace the "
            "files a previous planner run or export wrote there (other files are kept)."
        )
    return out


def write_error(exc: BaseException, where: Path) -> DataLoadError | None:
    """A clear :class:`DataLoadError` for a disk-full / read-only / permission failure, else None."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in _WRITE_ERRNOS or any(word in text for word in _WRITE_WORDS):
        reason = os.strerror(code) if code in _WRITE_ERRNOS and code is not None else str(exc).splitlines()[0]
        return DataLoadError(
            f"Could not write the outputs to {where}: {reason}. Nothing was written there. Free disk space, "
            "or choose a folder you can write to with --out."
        )
    return None


def _remove_previous(out: Path) -> None:
    """Remove the files the planner wrote into ``out`` before (and folders left empty by that)."""
    files = previous_files(out)
    for path in sorted(files, key=lambda p: p.name == MANIFEST, reverse=True):  # manifest first
        path.unlink(missing_ok=True)
    for folder in sorted({p.parent for p in files}, key=lambda p: len(p.parts), reverse=True):
        if folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _commit(tmp: Path, out: Path) -> None:
    """Give ``tmp``'s files the name ``out``: one rename when ``out`` is absent or empty, else file by
    file with ``manifest.json`` last (an interruption leaves no manifest, so no complete-looking plan).
    """
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.replace(tmp, out)
        return
    _remove_previous(out)
    files = sorted((p for p in tmp.rglob("*") if p.is_file()), key=lambda p: p.name == MANIFEST)
    for src in files:
        dest = out / src.relative_to(tmp)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    shutil.rmtree(tmp, ignore_errors=True)


def _clean_stale(out: Path) -> None:
    """Remove temporary folders of earlier interrupted writes to ``out`` (their process is gone)."""
    for stale in out.parent.glob(f".{out.name}{TMP_TAG}*"):
        pid = stale.name.split(TMP_TAG, 1)[1].split("-", 1)[0]
        with contextlib.suppress(ValueError, OSError):
            if int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """A temporary folder beside ``out`` that becomes ``out`` when the block finishes without error.

    Parameters
    ----------
    out : path
        The destination folder (created; its parent too).
    overwrite : bool
        Allow a non-empty ``out``: the planner's earlier files there are removed, others kept.
    """
    out = check_output_dir(out, overwrite=overwrite)
    tmp = out.parent / f".{out.name}{TMP_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(out)
        tmp.mkdir()
    except OSError as exc:
        raise (write_error(exc, out) or DataLoadError(f"Could not create {tmp}: {exc}")) from None
    try:
        yield tmp
        _commit(tmp, out)
    except PlannerError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        problem = write_error(exc, out)
        if problem is not None:
            raise problem from None
        raise
    except BaseException:  # KeyboardInterrupt, SystemExit: leave nothing that looks finished
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("wrote %s", out)
