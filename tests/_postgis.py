"""A throw-away PostgreSQL 15 + PostGIS cluster on loopback for the duration of a test session."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _browser import free_port

PGBIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS = Path("/usr/share/postgresql/15/extension/postgis.control")


def postgis_available() -> bool:
    return (PGBIN / "initdb").exists() and POSTGIS.exists() and shutil.which("psql") is not None


def _as_postgres(cmd: str) -> None:
    if os.geteuid() == 0:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", cmd], check=True, capture_output=True)
    else:
        subprocess.run(["sh", "-c", cmd], check=True, capture_output=True)


@contextlib.contextmanager
def postgis_server() -> Iterator[str]:
    """Start a cluster on 127.0.0.1, create database ``gis`` with PostGIS, yield its SQLAlchemy URL."""
    root = Path(tempfile.mkdtemp(prefix="planner_pg_"))
    root.chmod(0o777)
    data = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    _as_postgres(f"{PGBIN}/initdb -D {data} -A trust -U postgres --no-sync >/dev/null")
    _as_postgres(
        f"{PGBIN}/pg_ctl -D {data} -l {root}/pg.log -o "
        f"'-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off' -w start"
    )
    try:
        for sql, db in (("CREATE DATABASE gis", "postgres"), ("CREATE EXTENSION postgis", "gis")):
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db, "-c", sql],
                check=True,
                capture_output=True,
            )
        yield f"postgresql://postgres@127.0.0.1:{port}/gis"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _as_postgres(f"{PGBIN}/pg_ctl -D {data} -m fast -w stop")
        shutil.rmtree(root, ignore_errors=True)
