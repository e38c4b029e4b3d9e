"""A package imports only packages below it (DESIGN.md): config < storage < bus < sensors, media,
incidents < ingest, command_center; `ingest` and `command_center` talk over the bus, HTTP and the
store only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ECC = Path(__file__).resolve().parents[2] / "ecc"
BASE = {"ecc", "ecc.times", "ecc.tokens"}
ALLOWED: dict[str, set[str]] = {
    "config": BASE,
    "storage": BASE | {"config"},
    "bus": BASE | {"config", "storage"},
    "sensors": BASE | {"config", "storage", "bus"},
    "media": BASE | {"config", "storage", "bus"},
    "incidents": BASE | {"config", "storage", "bus"},
    "ingest": BASE | {"config", "storage", "bus", "sensors", "media", "incidents"},
    "command_center": BASE | {"config", "storage", "bus", "sensors", "media", "incidents"},
}


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n == "ecc" or n.startswith("ecc.")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_packages_below_it(package: str) -> None:
    wrong = []
    for path in sorted((ECC / package).rglob("*.py")):
        for name in imported(path):
            top = name if name in BASE else name.split(".")[1]
            if name not in BASE and top != package and top not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ECC.parent)} imports {name}")
    assert wrong == []


def test_the_vehicle_agent_needs_neither_store_nor_bus() -> None:
    """`ecc vehicle` runs on the vehicle and reaches the center over HTTP and WHIP only."""
    wrong = []
    for path in sorted((ECC / "ingest" / "vehicle").rglob("*.py")):
        for name in imported(path):
            if name.split(".")[1:2] in (["storage"], ["bus"], ["command_center"]):
                wrong.append(f"{path.relative_to(ECC.parent)} imports {name}")
    assert wrong == []
