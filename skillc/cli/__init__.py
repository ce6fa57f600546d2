"""`skillc …`: the command line (typer commands in `app`, rich tables in `tables`, the demo in `demo`)."""

from skillc.cli.app import app

__all__ = ["app"]
