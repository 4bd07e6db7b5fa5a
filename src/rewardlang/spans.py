"""Where something stands in a source file: its own module, so that diagnostics (and the
command line, which reports them) need not import the whole syntax tree to name a place."""

from __future__ import annotations

import attrs


@attrs.frozen
class Span:
    """Where a node stands in its file: 1-based lines and columns, the end column exclusive."""

    filename: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"


NO_SPAN = Span("<none>", 0, 0, 0, 0)
