"""``electionbot users ...``: local web chat accounts for offices without an identity provider.

Passwords are read with a hidden prompt (typed twice) or from standard input with
``--password-stdin``; they are never echoed, logged or stored except as an argon2 hash.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bot.cli import fail, run_with_db, settings_or_exit

users_app = typer.Typer(help="Local web chat accounts: add, disable, list.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Account name; the identity is web:local:NAME.")],
    totp: Annotated[bool, typer.Option("--totp", help="Also require a 6-digit code from an "
                                       "authenticator app.")] = False,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input.")]
    = False,
) -> None:
    """Create a local account (prints the authenticator secret once with --totp)."""
    from bot.adapters.webchat.accounts import AccountError, add_account, check_new_password, totp_uri

    password = _read_password(password_stdin)
    try:
        check_new_password(password)
        secret = run_with_db(lambda db: add_account(db, name=name, password=password, totp=totp))
    except AccountError as exc:
        raise fail(str(exc), 2) from None
    clean = name.strip().lower()
    typer.echo(f"ok: added web:local:{clean}")
    if secret:
        office = settings_or_exit().app.office.name
        typer.echo("Add this to the person's authenticator app now; it is not shown again.")
        typer.echo(f"secret: {secret}")
        typer.echo(f"uri: {totp_uri(secret, name=clean, issuer=office)}")


@users_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account; its sessions end at once."""
    from bot.adapters.webchat.accounts import disable_account

    if not run_with_db(lambda db: disable_account(db, name)):
        raise fail(f"no account named {name}")
    typer.echo(f"ok: disabled web:local:{name.strip().lower()}; its sessions have ended")


@users_app.command("list")
def list_users() -> None:
    """Every local account: name, status, second factor, created."""
    from bot.adapters.webchat.accounts import list_accounts

    accounts = run_with_db(list_accounts)
    if not accounts:
        typer.echo("no local accounts")
    for account in accounts:
        status = "disabled" if account.disabled else "active"
        factor = "totp" if account.totp_secret else "password only"
        typer.echo(f"web:local:{account.name}\t{status}\t{factor}\t"
                   f"created {account.created_at:%Y-%m-%d %H:%M} UTC")
