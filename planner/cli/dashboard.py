"""``planner dashboard``: start the Streamlit dashboard with its own settings, failing closed.

The checks and the command line are built by :func:`planner.dashboard.hosting.launch_plan` (no
Streamlit import); this module only turns options into that call and hands the process over to
Streamlit.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` command to ``app``."""

    @app.command("dashboard")
    def dashboard_command(
        *,
        port: int = typer.Option(8501, "--port", min=1, max=65535, help="TCP port to listen on."),
        address: str | None = typer.Option(
            None,
            "--address",
            help="Address to listen on. Default: 127.0.0.1 (this machine only) without sign-in; every "
            "interface with sign-in. Beyond loopback without sign-in needs --insecure-anonymous.",
        ),
        secrets: Path | None = typer.Option(
            None,
            "--secrets",
            help="Secrets file with [auth] (sign-in) and [planner] (roles, audit log). Default: "
            ".streamlit/secrets.toml beside app.py, whatever the working directory.",
        ),
        insecure_anonymous: bool = typer.Option(
            False,
            "--insecure-anonymous",
            help="Listen beyond loopback WITHOUT sign-in: every visitor gets --anonymous-role "
            "(default viewer: the public view, no incident points).",
        ),
        anonymous_role: str | None = typer.Option(
            None,
            "--anonymous-role",
            metavar="[viewer|analyst]",
            help="Role of visitors who do not sign in. Default: analyst on loopback (the person at this "
            "machine), viewer with --insecure-anonymous.",
        ),
        app_path: Path | None = typer.Option(
            None, "--app", help="The dashboard script (default: app.py of this checkout)."
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Check the settings and print the Streamlit command; do not start."
        ),
    ) -> None:
        """Start the dashboard: loopback only without sign-in; refuses unsafe sign-in settings."""
        from planner.dashboard.hosting import default_app_path, launch_plan

        launch = launch_plan(
            app_path or default_app_path(),
            port=port,
            address=address,
            secrets=secrets,
            insecure_anonymous=insecure_anonymous,
            anonymous_role=anonymous_role,
        )
        typer.echo(launch.message)
        if dry_run:
            typer.echo(" ".join(launch.argv))
            return
        # Hand the process over: stopping `planner dashboard` stops the server, nothing is left behind.
        os.execve(launch.argv[0], launch.argv, launch.env)
