"""``electionbot network ...`` and ``electionbot alerts ...``: the coalition network."""

from __future__ import annotations

import typer

network_app = typer.Typer(help="Coalition network: list, add, remove, import.",
                          no_args_is_help=True)
alerts_app = typer.Typer(help="Rapid-response alerts.", no_args_is_help=True)
