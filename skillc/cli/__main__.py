"""`python -m skillc.cli …`."""

from skillc.cli.app import app

app()
