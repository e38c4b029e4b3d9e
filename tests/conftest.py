"""Fixtures shared by the whole suite: a real Mosquitto, a real SQLite file, a real center."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecc.bus.broker import PrivateBroker, free_port
from ecc.config import EXAMPLE_SITE, Settings, Site, load_settings, load_site
from ecc.storage import Store, open_store
from tests.support.center import RunningCenter

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    b = PrivateBroker(tmp_path / "mosquitto")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def site() -> Site:
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("ECC_DATABASE_URL", "ECC_MQTT_URL", "ECC_DATA_DIR", "ECC_SITE", "ECC_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    # A copy of the example site, so that what a test saves beside it (the motion sidecar of
    # the zone editor) stays in its own folder.
    sites = tmp_path / "sites"
    shutil.copytree(EXAMPLE_SITE.parent, sites, ignore=shutil.ignore_patterns("*.motion.toml"))
    return load_settings(
        database_url=f"sqlite:///{tmp_path}/ecc.db",
        data_dir=str(tmp_path / "var"),
        http_port=free_port(),
        secret="test-secret-not-for-production",
        site=str(sites / EXAMPLE_SITE.name),
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.database_url)
    yield s
    s.close()


@pytest.fixture
def center(settings: Settings, site: Site, store: Store) -> Iterator[RunningCenter]:
    """A center with no broker (a LocalBus) and one user per role."""
    c = RunningCenter(settings, site, store).start()
    c.add_users()
    yield c
    c.stop()


@pytest.fixture
def center_on_broker(
    settings: Settings, site: Site, store: Store, broker: PrivateBroker
) -> Iterator[RunningCenter]:
    """A center on a real Mosquitto, with one user per role."""
    c = RunningCenter(settings.model_copy(update={"mqtt_url": broker.url}), site, store).start()
    c.add_users()
    yield c
    c.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
