"""How a message phrases its fix: as a CLI flag on the command line, as a keyword argument in Python.

A message built inside the package cannot know who will read it, so it states both forms and
:func:`hint` picks one: the ``planner`` command runs inside :func:`cli_interface` and gets
``--column date=Reported``; a Python caller gets ``columns={'date': 'Reported'}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_INTERFACE: ContextVar[str] = ContextVar("planner_interface", default="python")


@contextmanager
def cli_interface() -> Iterator[None]:
    """Inside this block, :func:`hint` phrases fixes as command-line flags."""
    token = _INTERFACE.set("cli")
    try:
        yield
    finally:
        _INTERFACE.reset(token)


def on_cli() -> bool:
    """True inside :func:`cli_interface` (the ``planner`` command)."""
    return _INTERFACE.get() == "cli"


def hint(python: str, cli: str) -> str:
    """``cli`` on the command line, else ``python`` (e.g. ``hint("crs=...", "--crs ...")``)."""
    return cli if on_cli() else python


def column_hint(role: str, column: str) -> str:
    """How to name the column of a role: ``--column ROLE=NAME`` or ``columns={'ROLE': 'NAME'}``."""
    pair = f"{role}={column}"
    if not re.fullmatch(r"[\w.=-]+", pair):
        pair = f"'{pair}'"  # a header with spaces needs quoting on the shell
    return hint(f"columns={{'{role}': '{column}'}}", f"--column {pair}")
