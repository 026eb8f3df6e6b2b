"""Shared test set-up: headless Qt, a private feature cache, and the optional ../shared data."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    # Tests never touch the user's feature cache.
    monkeypatch.setenv("ARTIFACTSCOPE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def godot_dir():
    path = SHARED_DATA / "godot-demos"
    if not path.is_dir():
        pytest.skip("../shared/data/godot-demos is not present (developer data, absent on user machines)")
    return path
