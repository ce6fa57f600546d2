"""`skillc budget show SKILL`, and the `--budget NAME=VALUE` option of `skillc run`.

Example:
    >>> budget_option(["max_usd_per_run=0.5"], None, "s", None)
    {'max_usd_per_run': 0.5}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from skillc.cli.output import console, errors_exit
from skillc.core.errors import InvalidInputError
from skillc.core.spec import Budget
from skillc.graphs.config import RunConfig
from skillc.spend import Ledger
from skillc.spend.ledger import default_ledger_path

BATCH_LIMITS = {"max_teacher_calls": "max_teacher_calls_per_run", "max_usd": "max_usd_per_run"}


def budget_option(given: list[str], spec_budget: Any, skill: str, ledger: Path | None) -> Any:
    """`--budget NAME=VALUE …` as a run budget: per-run limits as a dict (each input counted on its own), or with
    `max_teacher_calls` / `max_usd` one `RunBudget` that every input of the invocation shares.

    >>> budget_option(["max_teacher_calls_per_run=2"], None, "s", None)
    {'max_teacher_calls_per_run': 2}
    >>> budget_option(["max_teacher_calls=3"], None, "s", None).max_teacher_calls_per_run
    3
    """
    limits: dict[str, float] = {}
    shared: dict[str, float] = {}
    for item in given:
        name, _, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in (*Budget.model_fields, *BATCH_LIMITS):
            raise InvalidInputError(f"--budget {item!r}: the budgets are {', '.join([*Budget.model_fields, *BATCH_LIMITS])}")
        try:
            number = float(value)
        except ValueError:
            raise InvalidInputError(f"--budget {item!r}: give NAME=NUMBER") from None
        if name in BATCH_LIMITS:
            shared[BATCH_LIMITS[name]] = int(number) if "calls" in name else number
        else:
            limits[name] = int(number) if "calls" in name else number
    if not shared:
        return Budget.model_validate(limits).model_dump(exclude_none=True) or None
    merged = {**(spec_budget.model_dump(exclude_none=True) if spec_budget else {}), **limits, **shared}
    return RunConfig(budget=merged, ledger=ledger).run_budget(None, skill)



def register(app: typer.Typer) -> None:
    """Add the `budget` command group to the CLI."""
    budget_app = typer.Typer(no_args_is_help=True, help="What a skill spent on the teacher, per day, and its limits.")
    app.add_typer(budget_app, name="budget")

    @budget_app.command("show")
    def show_cmd(
        skill: Annotated[str, typer.Argument(help="skill folder, or a skill name")],
        ledger: Annotated[Path | None, typer.Option("--ledger", help="the ledger file (default $SKILLC_LEDGER or ~/.skillc/ledger.sqlite)")] = None,
    ) -> None:
        """Print the skill's daily teacher spend from the ledger, beside its budget."""
        with errors_exit():
            name, limits = skill, None
            if Path(skill).is_dir():
                from skillc.skills.skill import Skill

                loaded = Skill.load(skill)
                name, limits = loaded.name, loaded.spec.budget
            path = ledger or default_ledger_path()
            if not path.is_file():
                raise InvalidInputError(f"no ledger at {path}: nothing was spent under a daily budget yet")
            days = Ledger(path).days(name)
        cap = limits.max_usd_per_day if limits and limits.max_usd_per_day is not None else None
        table = Table("day (UTC)", "escalations", "USD", "of the daily limit", "unsettled",
                      title=f"{name}: teacher spend in {path}")
        for day in days:
            share = f"{day['usd'] / cap:.0%}" if cap else "–"
            table.add_row(day["day"], str(day["escalations"]), f"{day['usd']:.6f}", share, str(day["unsettled"]))
        console.print(table if days else f"{name}: no escalation recorded in {path} yet")
        shown = ", ".join(f"{k} {v:g}" for k, v in (limits.model_dump(exclude_none=True) if limits else {}).items())
        console.print(f"budget: {shown or 'none in skill.json (a run may still give --budget)'}")
