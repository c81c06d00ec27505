"""#18: the docs name only files and Python names that exist.

Every backticked repository path (``planner/...``, ``tests/...``, ``bench/...``, ``scripts/...``,
``docs/...``, ``layers/...``, ``sample_data/...``) in README.md, docs/*.md and sample_data/README.md
must exist, and every backticked dotted name ``planner.x.y`` must import (as a module, or an
attribute of one). CHANGELOG.md is history and may name files that have since moved.
"""

from __future__ import annotations

import importlib
import re

import pytest
from _paths import ROOT

DOCS = [ROOT / "README.md", ROOT / "sample_data" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("planner/", "tests/", "bench/", "scripts/", "docs/", "layers/", "sample_data/", ".ci/", ".streamlit/")
PATH_RE = re.compile(r"`((?:" + "|".join(re.escape(t) for t in TOP) + r")[^`\s:]*)`")
NAME_RE = re.compile(r"`(planner(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


USER_FILES = {".streamlit/secrets.toml"}  # files the docs tell a user to create (never committed)


def _exists(path: str) -> bool:
    if path in USER_FILES:
        return True
    pattern = re.sub(r"<[^>]+>", "*", path.rstrip("/"))
    return any(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()


def _resolve(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_name_existing_files(doc):
    text = doc.read_text(encoding="utf-8")
    missing = sorted({p for p in PATH_RE.findall(text) if not _exists(p)})
    assert not missing, f"{doc.name} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_name_existing_python_names(doc):
    text = doc.read_text(encoding="utf-8")
    unknown = sorted({n for n in NAME_RE.findall(text) if not _resolve(n)})
    assert not unknown, f"{doc.name} names Python objects that do not exist: {unknown}"
