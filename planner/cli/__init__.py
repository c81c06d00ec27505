"""The ``planner`` command line.

Each command lives in its own module in this package and exposes ``register(app)``; modules are
discovered automatically, so a stage adds its command without touching this file. Every
:class:`planner.errors.PlannerError` is printed as one clear message (exit code 2), never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import typer

from planner._hints import cli_interface
from planner.errors import PlannerError

app = typer.Typer(
    name="planner",
    help="Situational crime prevention planner: where, why here, and what should we change?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log decisions and timings."),
    allow_virtual_sources: bool = typer.Option(
        False,
        "--allow-virtual-sources",
        help="Let inputs be GDAL virtual datasets (VRT, GDALG), /vsi... paths or URLs. Off by default: "
        "such inputs can read other files on this machine or fetch URLs.",
    ),
) -> None:
    from planner.io.sources import set_allow_virtual_sources

    set_allow_virtual_sources(allow_virtual_sources)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one message and return exit code 2 (hints as CLI flags)."""
    try:
        with cli_interface():
            app(args=argv, standalone_mode=False)
    except PlannerError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        return 1
    except Exception as exc:
        # Usage errors (bad option values, unknown options) from click or from typer's own copy of
        # it: one message and the usage line, exit 2, never a traceback.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
