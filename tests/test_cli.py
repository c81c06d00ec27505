"""CLI usage errors are one message and exit code 2, never a traceback (typer uses its own copy of
click, whose exceptions the CLI must catch too)."""

from __future__ import annotations

import pytest

from planner.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["hotspots", "x.csv", "--q", "abc"],
        ["run", "--bogus"],
        ["nearrepeat"],
        ["export", "dir", "--k", "many"],
    ],
)
def test_usage_errors_exit_2_with_a_message(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Error" in err and "Traceback" not in err
