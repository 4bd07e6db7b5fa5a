"""Shared test set-up: a seeded, bounded hypothesis profile for CI, and a parser per session.

Hypothesis runs with ``deadline=None`` (machines are noisy) and ``derandomize=True`` under CI, so
that a run is repeatable and never flaky; locally the ``dev`` profile explores more.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",  # HYPOTHESIS_PROFILE=thorough: a long local hunt for rare failures
    deadline=None,
    max_examples=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True, scope="session")
def _grammar_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep Lark's grammar cache of the test run out of the user's home."""
    os.environ.setdefault("REWARDLANG_CACHE_DIR", str(tmp_path_factory.mktemp("grammar-cache")))


@pytest.fixture(scope="session")
def parser():
    from rewardlang.parser import Parser

    return Parser()
