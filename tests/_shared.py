"""Results shared between the test workers of one run (``pytest -n 2``)."""

from __future__ import annotations

import fcntl
import pickle
from collections.abc import Callable
from typing import Any

import pytest


def shared_across_workers(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[], Any]
) -> Any:
    """``build()``, computed by the first test worker that asks and read back by the others.

    The result is pickled in the run's shared temporary folder; the others wait on a file lock
    (the dashboard's default configuration is ``RunConfig()``, so ``sample_plan`` is its plan too).
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base  # one folder for all workers
    cached = shared / f"{name}.pickle"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return pickle.loads(cached.read_bytes())
        value = build()
        cached.write_bytes(pickle.dumps(value))
        return value
