"""Config errors that name the file, the key and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


class ConfigError(Exception):
    """A configuration that cannot be used; the message is meant for the person who wrote it."""


def key_path(loc: Sequence[int | str], data: Any) -> str:
    """`stations[2] (id "xiaogang").thresholds.water_level.danger` from a pydantic location.

    Items of lists are named by their `id` where they have one, because a person editing a site
    file thinks in station ids, not indexes.
    """
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            item = node[part] if isinstance(node, Sequence) and 0 <= part < len(node) else None
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                out += f' (id "{item["id"]}")'
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out or "(top level)"


def describe(exc: ValidationError, data: Any, source_of: Any = None) -> list[str]:
    """One line per problem: where it is, what is wrong and what was given."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        where = key_path(loc, data)
        source = source_of(loc) if source_of else None
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        given = ""
        if err["type"] not in ("missing", "extra_forbidden", "value_error") or "input" in err:
            value = err.get("input")
            if not isinstance(value, Mapping | list) and err["type"] != "missing":
                given = f" (got {value!r})"
        prefix = f"{source}: " if source else ""
        lines.append(f"{prefix}{where}: {msg}{given}")
    return lines
