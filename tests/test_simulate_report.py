"""``rewardlang simulate --report``: the HTML report is one self-contained file, and a real browser
(headless Chromium, Debian's ``chromium`` package) renders its charts without a console error.

The browser runs with a new, empty profile, no sandbox (CI containers run as root), no GPU and no
network services; it loads the report from a ``file://`` URL, which needs no network. The page's
own check (an inline script, ``rewardlang.simreport``) marks each chart whose SVG has a visible
size and drawn marks, and says on the console when one does not; ``--dump-dom`` shows the page
after that script ran, and ``--enable-logging=stderr`` shows the console. A PNG screenshot of each
report is kept under ``build/`` (git-ignored) as a CI artifact.

Without Chromium the browser tests are skipped with a reason (CI installs it: see .ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from rewardlang import simreport
from rewardlang.cli import main

pytest.importorskip("matplotlib", reason="the report extra (matplotlib) is not installed")

ROOT = Path(__file__).resolve().parents[1]
BOOKSHOP = ROOT / "rulesets" / "bookshop.reward"
EXAMPLE = ROOT / "examples" / "bookshop" / "events.jsonl"
BUILD = ROOT / "build"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHARTS = ("chart-points", "chart-tiers", "chart-rules", "chart-spend")
TIMEOUT = 120
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")

REQUIRED = os.environ.get("REWARDLANG_REQUIRE_CHROMIUM") == "1"  # set by .ci/run where it installs Chromium


def needs_chromium(test):  # type: ignore[no-untyped-def]
    """Skip without Chromium, saying why; fail instead where CI said it must be there."""
    if CHROMIUM is not None:
        return test
    if REQUIRED:
        def missing(*args, **kwargs):  # type: ignore[no-untyped-def]
            pytest.fail("headless Chromium is required here (REWARDLANG_REQUIRE_CHROMIUM=1) but `chromium` is "
                        "not on the PATH: install it (Debian: apt-get install chromium)")
        missing.__name__ = test.__name__
        return missing
    return pytest.mark.skip(reason="headless Chromium is not installed (Debian: apt-get install chromium); "
                                   ".ci/run installs it")(test)


def make_report(tmp_path: Path, *extra: str) -> Path:
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["simulate", str(BOOKSHOP), str(EXAMPLE), "--report", str(report), *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.endswith(f"; report written to {report}\n")
    return report


def browse(page: Path, *flags: str) -> tuple[str, list[str]]:
    """(what the browser printed, the console lines it logged) for ``page``."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="rewardlang-chromium-") as profile:
        done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                               *flags, page.resolve().as_uri()], capture_output=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    console = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if ":CONSOLE" in line]
    return done.stdout.decode("utf-8", "replace"), console


def check_rendered(report: Path, screenshot: str) -> str:
    dom, console = browse(report, "--dump-dom", "--window-size=1280,2000")
    assert console == []
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-charts="4"' in body.group(0) and 'data-charts-rendered="4"' in body.group(0), body.group(0)
    for chart in CHARTS:
        figure = re.search(rf'<figure class="chart" id="{chart}"[^>]*>', dom)
        assert figure is not None and 'data-rendered="yes"' in figure.group(0), chart
    BUILD.mkdir(exist_ok=True)
    png = BUILD / screenshot
    png.unlink(missing_ok=True)
    browse(report, f"--screenshot={png}", "--window-size=1280,4200")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    return dom


def test_the_report_is_one_self_contained_file(tmp_path):
    report = make_report(tmp_path)
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg") == 4
    # nothing to fetch: no external script, style, image, font or frame
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"""(src|href)=["'](?!#)""", page)
    assert not re.search(r"url\((?!#)", page)
    assert "@import" not in page
    # the tables are there, with the same figures as the text
    text = CliRunner().invoke(main, ["simulate", str(BOOKSHOP), str(EXAMPLE)]).stdout
    spend = re.search(r"^  spend\s+(\S+ SEK)$", text, re.M)
    assert spend is not None and f"<td class=\"n\">{spend.group(1)}</td>" in page
    for title in ("Programme", "Rules", "Customers per tier at the end", "Tier moves", "Month by month",
                  "Loyalty effect: the top 20 % of buyers by spend against the rest"):
        assert f">{title}</h2>" in page
    # the same simulation gives the same bytes
    (tmp_path / "again").mkdir()
    assert make_report(tmp_path / "again").read_text(encoding="utf-8") == page


@needs_chromium
def test_a_browser_renders_the_charts_without_a_console_error(tmp_path):
    check_rendered(make_report(tmp_path), "simulate-report.png")


@needs_chromium
def test_a_browser_renders_a_comparison(tmp_path):
    other = tmp_path / "bookshop-double.reward"
    other.write_text(BOOKSHOP.read_text(encoding="utf-8").replace(
        'rule "Base points":      purchase earns 1 point per 10 SEK',
        'rule "Base points":      purchase earns 2 points per 10 SEK'), encoding="utf-8")
    report = make_report(tmp_path, "--compare", str(other))
    page = report.read_text(encoding="utf-8")
    assert "Bookshop Club compared with Bookshop Club" in page
    assert "issued (compare)" in page and "issued (base)" in page  # both programmes in one chart
    dom = check_rendered(report, "simulate-compare.png")
    assert ">Customers whose points issued differ most</h2>" in dom


@needs_chromium
def test_the_browser_check_sees_a_console_error(tmp_path):
    """The harness and the page's own check: a failing script, and a chart that draws nothing."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><figure class="chart" id="chart-x"><svg width="0" height="0">'
                    f"</svg></figure><script>nosuchfunction();</script><script>{simreport._CHECK}</script>"
                    "</body></html>", encoding="utf-8")
    dom, console = browse(page, "--dump-dom")
    assert len(console) == 2
    assert "nosuchfunction is not defined" in console[0]
    assert "the chart chart-x did not render" in console[1]
    assert 'data-charts="1" data-charts-rendered="0"' in dom


def test_without_matplotlib_the_report_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    result = CliRunner().invoke(main, ["simulate", str(BOOKSHOP), str(EXAMPLE), "--report",
                                       str(tmp_path / "report.html")], catch_exceptions=False)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("error: --report needs matplotlib, which is not installed: install the report extra "
                             "(pip install 'rewardlang[report]') and run again\n")
    assert not (tmp_path / "report.html").exists()
