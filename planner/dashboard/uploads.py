"""Uploaded files: kept once per session in a private folder, named by their content, removed
when the session ends.

Each browser session gets its own temporary folder (mode 700, created by :func:`tempfile.mkdtemp`).
An upload is written there once, as ``<sha256>.<extension>``: reruns (every click) find it and
write nothing, and the plan cache, keyed by that path, is not recomputed. The folder is removed when
Streamlit drops the session's state (a finaliser on an object kept only there) and, at the latest,
when the server stops.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from planner.errors import PlannerError

logger = logging.getLogger(__name__)

MAX_UPLOAD_MB = 200
_SESSION_KEY = "_planner_upload_folder"
_ALL: set[str] = set()


class SessionFolder:
    """A private temporary folder that disappears with the object (its session)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="planner-session-"))
        self.path.chmod(0o700)
        _ALL.add(str(self.path))
        self._finalizer = weakref.finalize(self, _remove, str(self.path))

    def cleanup(self) -> None:
        """Remove the folder now."""
        self._finalizer()


def _remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    _ALL.discard(path)
    logger.info("removed upload folder %s", path)


@atexit.register
def _remove_all() -> None:
    for path in list(_ALL):
        _remove(path)


def session_folder(session: Any) -> SessionFolder:
    """The session's upload folder (``session`` is ``st.session_state`` or any mutable mapping)."""
    folder = session.get(_SESSION_KEY)
    if not isinstance(folder, SessionFolder) or not folder.path.is_dir():
        folder = SessionFolder()
        session[_SESSION_KEY] = folder
    return folder


def save_upload(upload: Any, session: Any) -> Path:
    """The path of ``upload`` in the session's folder, written only the first time it is seen.

    Raises :class:`PlannerError` for files over :data:`MAX_UPLOAD_MB`.
    """
    data = upload.getbuffer()
    size_mb = len(data) / 1e6
    if size_mb > MAX_UPLOAD_MB:
        raise PlannerError(
            f"{upload.name} is {size_mb:.0f} MB; the dashboard takes files up to {MAX_UPLOAD_MB} MB. "
            "Use the CLI (planner run --incidents FILE) for larger files."
        )
    digest = hashlib.sha256(data).hexdigest()
    suffixes = "".join(Path(str(upload.name)).suffixes[-2:]).lower()
    safe = "".join(ch for ch in suffixes if ch.isalnum() or ch == ".")[:16]
    path = session_folder(session).path / f"{digest}{safe}"
    if not path.exists():
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.rename(path)
    return path
