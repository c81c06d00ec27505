"""No network from ingest: every GDAL the process loads is told never to fetch a URL.

GDAL reaches the network from inside drivers, not only through ``/vsicurl/`` paths: a GeoJSON
``"crs": {"type": "link", "properties": {"href": "http://…"}}`` is fetched and its answer becomes
the data's CRS; a GML ``srsName`` or schema location, a WFS or a ``/vsis3/`` path are fetched too.
No GDAL configuration option turns all of that off, so :func:`make_gdal_offline` does three things
in each GDAL library loaded in the process (pyogrio and rasterio each bring their own copy):

* installs an HTTP fetch callback (``CPLHTTPSetFetchCallback``) that answers every request with a
  failure and records the URL, so no request leaves the process (CRS links, schemas, any driver);
* sets ``CPL_VSIL_CURL_ALLOWED_FILENAME`` to a name no path can have, so the ``/vsicurl/`` family
  (``/vsis3/``, ``/vsigs/``, ``/vsiaz/`` ...) opens nothing;
* turns PROJ's network (grid downloads) off, in GDAL and in pyproj.

It runs when :mod:`planner.io` is imported and again before each read (cheap: libraries already
done are skipped), so a GDAL loaded later (rasterio's, on the first raster) is covered as well.
URLs that GDAL was refused while reading a file are available through :func:`refused_urls`, so
the reader can say which link the file carries instead of silently using GDAL's fallback CRS.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

#: What ``CPL_VSIL_CURL_ALLOWED_FILENAME`` is set to: a name no ``/vsicurl/`` path can match.
_NO_FILENAME = "/planner-network-access-is-off/"
_REFUSAL = b"network access is off in the planner (it never fetches URLs while reading data)"


class _HTTPResult(ctypes.Structure):
    """``CPLHTTPResult`` from ``cpl_http.h`` (GDAL 3.x)."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    ]


_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p,  # CPLHTTPResult*
    ctypes.c_char_p,  # URL
    ctypes.c_void_p,  # options
    ctypes.c_void_p,  # progress function
    ctypes.c_void_p,  # progress data
    ctypes.c_void_p,  # write function
    ctypes.c_void_p,  # write data
    ctypes.c_void_p,  # user data
)

_lock = threading.Lock()
_done: dict[str, ctypes.CDLL] = {}
_callbacks: list[object] = []  # the ctypes callbacks must outlive every call GDAL makes to them
_refused = threading.local()


def _refusing_fetch(lib: ctypes.CDLL) -> object:
    """A fetch callback for ``lib`` that records the URL and returns a failed result."""

    def refuse(url: bytes | None, *_: object) -> int:
        urls = getattr(_refused, "urls", None)
        if urls is not None:
            urls.append((url or b"").decode("utf-8", "replace"))
        logger.debug("refused a network request from GDAL: %s", (url or b"").decode("utf-8", "replace")[:200])
        address = int(lib.CPLCalloc(1, ctypes.sizeof(_HTTPResult)))
        result = _HTTPResult.from_address(address)
        result.nStatus = 1  # failure; GDAL frees the result and its error text with CPLFree
        result.pszErrBuf = lib.CPLStrdup(_REFUSAL)
        return address

    return _FETCH(refuse)


def _gdal_libraries() -> list[str]:
    """Paths of the GDAL shared libraries loaded in this process."""
    maps = Path("/proc/self/maps")
    found: set[str] = set()
    if maps.exists():
        pattern = re.compile(r"(/\S*libgdal[^/\s]*\.so[^/\s]*)$")
        for line in maps.read_text().splitlines():
            match = pattern.search(line.strip())
            if match:
                found.add(match.group(1))
        return sorted(found)
    import ctypes.util  # other systems: the bundled copies, then the system's

    for module in ("pyogrio", "rasterio"):
        with contextlib.suppress(ImportError):
            package = Path(__import__(module).__file__ or "").parent
            for folder in (package.parent / f"{module}.libs", package / ".dylibs"):
                found.update(str(p) for p in folder.glob("*gdal*") if p.is_file())
    system = ctypes.util.find_library("gdal")
    return sorted(found | ({system} if system else set()))


def _make_offline(path: str) -> None:
    lib = ctypes.CDLL(path)
    lib.CPLCalloc.restype = ctypes.c_void_p
    lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLStrdup.restype = ctypes.c_void_p
    lib.CPLStrdup.argtypes = [ctypes.c_char_p]
    lib.CPLHTTPSetFetchCallback.restype = None
    lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]
    lib.CPLSetConfigOption.restype = None
    lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    callback = _refusing_fetch(lib)
    _callbacks.append(callback)
    lib.CPLHTTPSetFetchCallback(callback, None)
    lib.CPLSetConfigOption(b"CPL_VSIL_CURL_ALLOWED_FILENAME", _NO_FILENAME.encode())
    lib.CPLSetConfigOption(b"GDAL_HTTP_MAX_RETRY", b"0")
    with contextlib.suppress(AttributeError):  # GDAL >= 3.4
        lib.OSRSetPROJEnableNetwork.argtypes = [ctypes.c_int]
        lib.OSRSetPROJEnableNetwork(0)
    _done[path] = lib


def make_gdal_offline() -> list[str]:
    """Turn network access off in every GDAL loaded so far (and PROJ's); the libraries newly done.

    Idempotent and cheap once done. A GDAL that cannot be reached through ctypes is logged, not
    fatal: ingest also refuses URL and virtual-file-system paths before GDAL sees them.
    """
    os.environ["PROJ_NETWORK"] = "OFF"
    with contextlib.suppress(ImportError):
        import pyogrio  # noqa: F401  (loads the GDAL that reads vector files, so it is covered now)
    with contextlib.suppress(ImportError, AttributeError):
        import pyproj.network

        pyproj.network.set_network_enabled(active=False)
    new: list[str] = []
    with _lock:
        for path in _gdal_libraries():
            if path in _done:
                continue
            try:
                _make_offline(path)
            except (OSError, AttributeError) as exc:
                logger.warning("could not turn network access off in %s: %s", path, exc)
                continue
            new.append(path)
    if new:
        logger.info("network access is off in %s", ", ".join(Path(p).name for p in new))
    return new


def offline_libraries() -> list[str]:
    """Paths of the GDAL libraries whose network access :func:`make_gdal_offline` turned off."""
    return sorted(_done)


@contextlib.contextmanager
def refused_urls() -> Iterator[list[str]]:
    """The URLs GDAL asked for (and was refused) in this thread while the block ran."""
    make_gdal_offline()
    outer = getattr(_refused, "urls", None)
    urls: list[str] = []
    _refused.urls = urls
    try:
        yield urls
    finally:
        _refused.urls = outer
        if outer is not None:
            outer.extend(urls)
