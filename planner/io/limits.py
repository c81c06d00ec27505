"""The limits on what one source may hold, and the checks that apply them before decoding.

All limits live in :class:`SourceLimits`: bytes after decompression, compression ratio, rows,
columns, cells (rows × columns) and vertices. The CLI and Python API read within
:data:`DEFAULT_LIMITS`; the dashboard's uploads within :data:`UPLOAD_LIMITS`; a caller may set its
own with :func:`source_limits`. Every check runs on what the file declares before anything is
decoded: a Parquet file's metadata (rows, columns, row groups' uncompressed bytes), a zip archive's
entry sizes, a CSV's header line and line count; a gzip stream is expanded in chunks and stopped at
the cap. Each refusal names the file, the number found, the limit and what to do.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io as _io
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from planner.errors import DataLoadError

_MIB = 1024 * 1024


@dataclass(frozen=True)
class SourceLimits:
    """Caps on what one source may expand to.

    ``max_bytes`` (after decompression), ``max_ratio`` (decompressed / compressed size),
    ``max_rows``, ``max_columns``, ``max_cells`` (rows × columns) and ``max_vertices``. The defaults
    suit a city's incidents for years; the dashboard uses :data:`UPLOAD_LIMITS`.
    """

    max_bytes: int = 4 * 1024 * _MIB
    max_ratio: float = 100.0
    max_rows: int = 20_000_000
    max_columns: int = 500
    max_cells: int = 400_000_000
    max_vertices: int = 100_000_000


DEFAULT_LIMITS = SourceLimits()
UPLOAD_LIMITS = SourceLimits(
    max_bytes=512 * _MIB,
    max_ratio=100.0,
    max_rows=2_000_000,
    max_columns=500,
    max_cells=40_000_000,
    max_vertices=5_000_000,
)
#: Expansion below this many bytes is never refused for its ratio (tiny, repetitive files).
RATIO_FLOOR = 32 * _MIB

_LIMITS: ContextVar[SourceLimits] = ContextVar("planner_source_limits", default=DEFAULT_LIMITS)


@contextlib.contextmanager
def source_limits(limits: SourceLimits) -> Iterator[SourceLimits]:
    """Apply ``limits`` to every source read inside the block (e.g. the dashboard's uploads)."""
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


def current_limits() -> SourceLimits:
    """The limits in effect (:data:`DEFAULT_LIMITS` outside any :func:`source_limits` block)."""
    return _LIMITS.get()


# ------------------------------------------------------------------ rows, columns, cells
def check_shape(where: object, *, rows: int | None, columns: int | None, limits: SourceLimits) -> None:
    """Refuse ``rows`` rows or ``columns`` columns (either may be unknown) beyond ``limits``."""
    if columns is not None and columns > limits.max_columns:
        raise DataLoadError(
            f"{where} has {columns:,} columns; the limit is {limits.max_columns:,} per file (each column "
            "is profiled to find what it holds). Keep only the columns you need (the coordinates, date, "
            "time, category and id), e.g. with a spreadsheet or `csvcut -c`, and load that file."
        )
    if rows is not None and rows > limits.max_rows:
        raise DataLoadError(
            f"{where} has {rows:,} rows; the limit is {limits.max_rows:,} per file. Split it by date or "
            "area, or filter it before loading."
        )
    if rows is not None and columns is not None and rows * columns > limits.max_cells:
        raise DataLoadError(
            f"{where} has {rows:,} rows × {columns:,} columns = {rows * columns:,} cells; the limit is "
            f"{limits.max_cells:,} cells per file. Keep only the columns you need, or split the rows."
        )


def check_text_header(where: object, raw: bytes, *, sep: str, encoding: str, limits: SourceLimits) -> None:
    """Refuse a delimited text table from its header line and line count, before parsing it."""
    end = raw.find(b"\n")
    header = raw[: end if end >= 0 else len(raw)].decode(encoding, errors="replace")
    columns = len(next(csv.reader([header], delimiter=sep), []))
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    rows = max(lines - 1, 0)  # an upper bound: a quoted cell may hold a line break
    check_shape(where, rows=rows, columns=columns, limits=limits)


def check_parquet(path: Path, limits: SourceLimits) -> None:
    """Refuse a Parquet file from its metadata: rows, columns, cells and uncompressed bytes."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:
        raise DataLoadError(
            f"{path} is not a readable Parquet file ({str(exc)[:200]}). Write it again (e.g. with "
            "GeoPandas' to_parquet) or give a CSV."
        ) from None
    check_shape(path, rows=int(meta.num_rows), columns=int(meta.num_columns), limits=limits)
    expanded = sum(int(meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups))
    problem = too_big(path, expanded, limits, compressed=path.stat().st_size)
    if problem is not None:
        raise problem


def check_xlsx(path: Path, limits: SourceLimits) -> None:
    """Refuse a workbook from its first sheet's declared size and header row, before reading it all.

    The sheet's XML is streamed (defusedxml) only up to the end of its first row: openpyxl, even in
    read-only mode, parses the whole sheet when it does not declare its size. The declared size
    may be missing or wrong, so the rows and columns are checked again after the read.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            rows, columns = _xlsx_first_row(zf, _first_sheet(zf))
    except (KeyError, ValueError, AttributeError, SyntaxError):
        return  # not a workbook this check understands: pandas says what is wrong
    check_shape(path, rows=rows, columns=columns, limits=limits)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_sheet(zf: zipfile.ZipFile) -> str:
    """Member name of the workbook's first sheet (the one pandas reads)."""
    from defusedxml.ElementTree import fromstring

    book = fromstring(zf.read("xl/workbook.xml"))
    sheet = next(e for e in book.iter() if _local(e.tag) == "sheet")
    rid = next(v for k, v in sheet.attrib.items() if _local(k) == "id")
    rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next(e.get("Target", "") for e in rels if e.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _column_number(ref: str) -> int:
    number = 0
    for ch in ref:
        if not ch.isalpha():
            break
        number = number * 26 + ord(ch.upper()) - 64
    return number


def _xlsx_first_row(zf: zipfile.ZipFile, sheet: str) -> tuple[int | None, int]:
    """Declared data rows (None if undeclared) and cells of the first row, streamed."""
    from defusedxml.ElementTree import iterparse

    rows: int | None = None
    with zf.open(sheet) as fh:
        for event, elem in iterparse(fh, events=("start", "end")):
            name = _local(elem.tag)
            if event == "start" and name == "dimension":
                last = str(elem.get("ref", "")).split(":")[-1]
                digits = "".join(ch for ch in last if ch.isdigit())
                rows = int(digits) - 1 if digits else None
            elif event == "end" and name == "row":
                cells = [c for c in elem if _local(c.tag) == "c"]
                return rows, max([len(cells), *(_column_number(c.get("r", "")) for c in cells)])
    return rows, 0


# ------------------------------------------------------------------ capped decompression
def too_big(path: Path, size: int, limits: SourceLimits, *, compressed: int) -> DataLoadError | None:
    """The refusal for ``size`` bytes expanded from ``compressed``, or None when within the caps."""
    if size > limits.max_bytes:
        return DataLoadError(
            f"{path} expands to more than {limits.max_bytes / _MIB:,.0f} MiB; the limit keeps one file from "
            "filling the memory. Split the file, or read it with the CLI (planner run) on a larger machine."
        )
    if size > RATIO_FLOOR and size > limits.max_ratio * max(compressed, 1):
        return DataLoadError(
            f"{path} expands more than {limits.max_ratio:.0f} times ({compressed:,} bytes to over {size:,}); "
            "that is a compression bomb, not a data file. Give the uncompressed data or a normal archive."
        )
    return None


def read_gzip_capped(path: Path, limits: SourceLimits | None = None) -> bytes:
    """The decompressed bytes of a gzip file, streamed and refused past the size or ratio caps."""
    limits = limits or _LIMITS.get()
    compressed = path.stat().st_size
    out = _io.BytesIO()
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(4 * _MIB):
                out.write(chunk)
                problem = too_big(path, out.tell(), limits, compressed=compressed)
                if problem is not None:
                    raise problem
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        if isinstance(exc, DataLoadError):
            raise
        raise DataLoadError(
            f"{path} is not a valid gzip file ({exc}). Re-compress it or give the plain CSV."
        ) from None
    return out.getvalue()


def check_zip(path: Path, limits: SourceLimits | None = None) -> list[str]:
    """Member names of a zip archive after checking its declared sizes, ratio and names."""
    limits = limits or _LIMITS.get()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise DataLoadError(f"{path} is not a valid zip archive ({exc}). Zip the files again.") from None
    if len(infos) > 10_000:
        raise DataLoadError(
            f"{path} holds {len(infos):,} files; a data archive needs a few. Zip only the data files."
        )
    bad = [i.filename for i in infos if i.filename.startswith(("/", "\\")) or ".." in Path(i.filename).parts]
    if bad:
        raise DataLoadError(
            f"{path} holds files with unsafe paths ({bad[0]!r}); zip the data files without folders."
        )
    total = sum(i.file_size for i in infos)
    problem = too_big(path, total, limits, compressed=path.stat().st_size)
    if problem is not None:
        raise problem
    return [i.filename for i in infos]
