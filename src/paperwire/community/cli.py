"""``paperwire user ...`` and ``paperwire org ...``: accounts and organization members."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from paperwire.core.cli import DbOption, load_settings

user_app = typer.Typer(no_args_is_help=True, help="Accounts: create users, make admins.")
org_app = typer.Typer(no_args_is_help=True, help="Organizations: add members.")
err = Console(stderr=True)


def _store(db: str | None):
    """Settings, the store (to close) and the community repositories over it."""
    from paperwire.community.repository import Community
    from paperwire.context import open_store

    settings = load_settings(db)
    store = open_store(settings)
    return settings, store, Community.of(store)


@user_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="The new user's name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    fullname: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create a user (the password is prompted for, or read with --password-stdin)."""
    from paperwire.community.passwords import hash_password, password_problem, username_problem
    from paperwire.community.views import UsernameTaken

    if problem := username_problem(username):
        err.print(f"[red]error:[/] {problem}")
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if problem := password_problem(password, username):
        err.print(f"[red]error:[/] {problem}")
        raise typer.Exit(2)
    settings, store, community = _store(db)
    try:
        community.accounts.create_user(
            username,
            hash_password(password, settings.argon2_profile),
            fullname=fullname,
            is_admin=admin,
        )
    except UsernameTaken:
        err.print(f"[red]error:[/] the username {username!r} is taken")
        raise typer.Exit(1) from None
    finally:
        store.close()
    err.print(f"created {'administrator' if admin else 'user'} {username}")


@user_app.command("admin")
def make_admin(
    username: str,
    revoke: Annotated[bool, typer.Option("--revoke", help="Take admin rights away.")] = False,
    db: DbOption = None,
) -> None:
    """Make an existing user an administrator (or --revoke)."""
    _, store, community = _store(db)
    try:
        found = community.accounts.set_admin(username, not revoke)
    finally:
        store.close()
    if not found:
        err.print(f"[red]error:[/] there is no user {username!r}")
        raise typer.Exit(1)
    err.print(f"{username} is {'no longer ' if revoke else ''}an administrator")


@org_app.command("add-member")
def add_member(
    org: Annotated[str, typer.Argument(help="Organization name (created if new).")],
    username: Annotated[str, typer.Argument(help="An existing user.")],
    db: DbOption = None,
) -> None:
    """Add a user to an organization, so they can submit papers on its behalf."""
    _, store, community = _store(db)
    try:
        ok = community.orgs.add_member(org, username)
    finally:
        store.close()
    if not ok:
        err.print(f"[red]error:[/] there is no user {username!r} (paperwire user create)")
        raise typer.Exit(1)
    err.print(f"{username} is a member of {org}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(org_app, name="org")
