"""The embedding example runs as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_embed_example_runs():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "embed.py")], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "e17: applied" in out and "e17: duplicate" in out
    assert "e18: rejected (`amount` is \"49,90\"" in out
    assert '"releases": "e17"' in out
    assert "c42: balance 244, pending 0, tier None" in out
    assert "state restored" in out
