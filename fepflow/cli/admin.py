"""``fepflow admin``: administration straight on the hub's database, no hub needed."""

from __future__ import annotations

import os

import typer

from fepflow.cli.console import console, err

admin_app = typer.Typer(help="Administration straight on MongoDB (FEPFLOW_MONGO_*).", no_args_is_help=True)


@admin_app.command("add-user")
def add_user(
    identifier: str = typer.Argument(..., help="the identity's name"),
    scope: list[str] = typer.Option(..., "--scope", "-s", help="granted scope (repeatable; org-*-* allowed)"),
    secret_env: str | None = typer.Option(None, help="read the secret from this environment variable"),
    replace: bool = typer.Option(False, help="overwrite an existing identity"),
) -> None:
    """Create an identity with hashed secret and its scopes."""
    from fepflow.auth.scopes import ScopeError
    from fepflow.settings import mongo_settings
    from fepflow.store.identities import IdentityExists
    from fepflow.store.index import Index

    if secret_env:
        secret = os.environ.get(secret_env, "")
        if not secret:
            raise typer.BadParameter(f"${secret_env} is empty")
    else:
        secret = typer.prompt("secret", hide_input=True, confirmation_prompt=True)
    index = Index.from_settings(mongo_settings())
    try:
        identity = index.identities.add(identifier, secret, scope, replace=replace)
    except (IdentityExists, ScopeError, ValueError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        index.close()
    console.print(f"identity {identity.identifier} with scopes {', '.join(identity.scopes)}")
