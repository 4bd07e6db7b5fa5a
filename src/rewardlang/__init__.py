"""rewardlang: a language for loyalty and promotion rules.

``load``/``loads`` read a ruleset into a checked ``Program`` (raising ``RulesetError`` with every
diagnostic); ``check_text``/``check_path`` return the diagnostics as values instead.
"""

from rewardlang.diagnostics import Diagnostic, RulesetError
from rewardlang.loading import Checked, check_path, check_text, load, loads
from rewardlang.program import Program

__version__ = "0.1.0"

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
