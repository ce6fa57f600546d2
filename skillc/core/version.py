"""The installed version of skillc (recorded in provenance and cache keys).

Example:
    >>> isinstance(__version__, str)
    True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skillc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
