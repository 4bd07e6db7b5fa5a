"""rewardlang: a language for loyalty and promotion rules.

``load``/``loads`` read a ruleset into a checked ``Program`` (raising ``RulesetError`` with every
diagnostic); ``check_text``/``check_path`` return the diagnostics as values instead.

The names are imported on first use (PEP 562), so that ``import rewardlang`` stays cheap for
tools that only parse or format (start-up time is a figure users compare).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Checked": "rewardlang.loading",
    "check_path": "rewardlang.loading",
    "check_text": "rewardlang.loading",
    "load": "rewardlang.loading",
    "loads": "rewardlang.loading",
    "Diagnostic": "rewardlang.diagnostics",
    "RulesetError": "rewardlang.diagnostics",
    "Program": "rewardlang.program",
}

if TYPE_CHECKING:
    from rewardlang.diagnostics import Diagnostic, RulesetError
    from rewardlang.loading import Checked, check_path, check_text, load, loads
    from rewardlang.program import Program


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rewardlang' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = [
    "Checked",
    "Diagnostic",
    "Program",
    "RulesetError",
    "__version__",
    "check_path",
    "check_text",
    "load",
    "loads",
]
