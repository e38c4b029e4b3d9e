from __future__ import annotations

from pathlib import Path

import pytest

from ecc.storage import Store, open_store


def test_every_store_says_its_backend_and_answers_a_ping(
    store: Store, request: pytest.FixtureRequest
) -> None:
    param = request.node.callspec.params["store"]
    assert (
        store.backend == {"sqlite": "sqlite", "mongomock": "mongodb", "mongodb": "mongodb"}[param]
    )
    assert store.ping() is True


def test_open_store_refuses_an_unknown_scheme(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        open_store(f"postgres://{tmp_path}")
