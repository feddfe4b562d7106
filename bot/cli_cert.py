"""``electionbot cert|roster|completions ...``: certification data in and out."""

from __future__ import annotations

import typer

cert_app = typer.Typer(help="Certification: rules check, reports.", no_args_is_help=True)
roster_app = typer.Typer(help="Officials roster import.", no_args_is_help=True)
completions_app = typer.Typer(help="Course completions import.", no_args_is_help=True)
