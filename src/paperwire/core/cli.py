"""Command-line pieces shared by the main CLI and every slice's commands (which must not
import ``paperwire.cli`` back)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperwire.settings import Settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLAlchemy URL or a SQLite file path "
        "(default: PAPERWIRE_DATABASE_URL, else a file in the user data dir).",
    ),
]


def load_settings(db: str | None = None) -> Settings:
    """The settings from the environment, with ``--db`` (a URL or a SQLite path) on top."""
    settings = Settings()
    if db:
        url = db if "://" in db else f"sqlite:///{Path(db).expanduser().resolve()}"
        settings = settings.model_copy(update={"database_url": url})
    return settings


def redact_url(url: str) -> str:
    """A database URL as it may be printed: the password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
