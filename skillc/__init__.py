"""skillc: a teacher compiles a task into a LangGraph skill once; a cheap student runs it.

The public surface. Everything else is importable from its layer (`skillc.core`, `skillc.adapters`,
`skillc.compression`, `skillc.graphs`, `skillc.skills`, `skillc.compile`, `skillc.eval`), but these names
are the ones the README documents and keeps stable.

Example:
    >>> import skillc
    >>> {"Skill", "RunConfig", "EvalReport", "compile_skill", "evaluate_skill"} <= set(skillc.__all__)
    True
"""

from skillc.adapters.models import ModelHandle, register_scheme, resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.compile.compiler import compile_skill
from skillc.core.errors import (
    BackendUnavailable,
    InvalidInputError,
    ModelURIError,
    SkillcError,
    SkillFolderError,
    SkillGaveUp,
    SpecCompileError,
)
from skillc.core.report import EvalReport
from skillc.core.spec import SkillSpec
from skillc.core.task import Task
from skillc.core.trace import RunResult, StepRecord
from skillc.core.version import __version__
from skillc.eval.calibrate import calibrate_skill
from skillc.eval.evaluate import evaluate_skill, write_evaluation
from skillc.graphs.builder import build_graph
from skillc.graphs.config import RunConfig
from skillc.skills.skill import Skill, load_skill

__all__ = [
    "BackendUnavailable",
    "EvalReport",
    "InvalidInputError",
    "ModelHandle",
    "ModelURIError",
    "PriceTable",
    "RunConfig",
    "RunResult",
    "Skill",
    "SkillFolderError",
    "SkillGaveUp",
    "SkillSpec",
    "SkillcError",
    "SpecCompileError",
    "StepRecord",
    "Task",
    "__version__",
    "build_graph",
    "calibrate_skill",
    "compile_skill",
    "evaluate_skill",
    "load_skill",
    "register_scheme",
    "resolve_model",
    "write_evaluation",
]
