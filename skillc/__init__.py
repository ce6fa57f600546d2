"""skillc: a teacher compiles a task into a LangGraph skill once; a cheap student runs it.

Example:
    >>> import skillc
    >>> sorted(n for n in skillc.__all__ if n[0].isupper())[:3]
    ['ModelHandle', 'PriceTable', 'RunResult']
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skillc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

from skillc.adapters.models import ModelHandle, resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.graphs.builder import build_graph
from skillc.graphs.trace import RunResult
from skillc.skills.compiler import compile_skill
from skillc.skills.skill import Skill, load_skill
from skillc.skills.spec import SkillSpec
from skillc.skills.task import Task

__all__ = [
    "ModelHandle",
    "PriceTable",
    "RunResult",
    "Skill",
    "SkillSpec",
    "Task",
    "__version__",
    "build_graph",
    "compile_skill",
    "load_skill",
    "resolve_model",
]
