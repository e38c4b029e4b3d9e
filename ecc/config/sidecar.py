"""The motion sidecar: cameras' motion settings saved from the dashboard, beside the site file.

The site file is written by people, with comments and an order they chose; ECC never rewrites
it. What an admin draws in the zone editor (zones, masks, their sensitivity, minimum area and
duration, alert severity and hours) is saved to `<site>.motion.toml` next to it (`beilun.toml`
-> `beilun.motion.toml`), one table per camera id, each replacing that camera's `motion` table of
the site file as a whole. `load_site` reads both and checks the result as one site; deleting a
camera's table (or the file) goes back to what the site file says.

Writes are whole or not at all (a temporary file, flushed to disk, renamed over the old one), so
a crash never leaves half a file; writers in one process take turns. Two center nodes that save
the same site folder at the same moment: the last rename wins, whole.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ecc.config.errors import ConfigError, describe
from ecc.config.motion import CameraMotion

log = logging.getLogger(__name__)

HEADER = """\
# Motion settings saved from ECC's zone editor (/admin/zones). Written by ECC: do not edit by
# hand while ECC runs. Each [cameras."<id>"] table replaces that camera's `motion` table of the
# site file as a whole; delete a camera's table (or this file) to go back to the site file.
"""
_lock = threading.Lock()


def sidecar_path(site: Path) -> Path:
    return site.with_name(f"{site.stem}.motion.toml")


def read_sidecar(site: Path) -> dict[str, CameraMotion]:
    """Camera id -> saved motion settings; {} when there is no sidecar. ConfigError names the
    file, the key and the problem."""
    path = sidecar_path(site)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"cameras"}
    if unknown:
        raise ConfigError(f"{path}: {sorted(unknown)[0]}: unknown key (only [cameras.<id>])")
    cameras = data.get("cameras", {})
    if not isinstance(cameras, dict):
        raise ConfigError(f"{path}: cameras: must be a table of camera ids")
    out: dict[str, CameraMotion] = {}
    for camera_id, table in cameras.items():
        try:
            out[camera_id] = CameraMotion.model_validate(table)
        except ValidationError as exc:
            problems = "\n  ".join(f"cameras.{camera_id}.{line}" for line in describe(exc, table))
            raise ConfigError(f"{path}: invalid motion settings:\n  {problems}") from None
    return out


def with_sidecar(site: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The site file's data with the sidecar's settings in place of the cameras' own."""
    saved = read_sidecar(site)
    if not saved:
        return data
    cameras = data.get("cameras")
    if not isinstance(cameras, list):
        cameras = []
    known = {c.get("id") for c in cameras if isinstance(c, dict)}
    for camera_id in sorted(set(saved) - known):
        log.warning(
            "%s: the site has no camera %r; its saved motion settings are not used",
            sidecar_path(site),
            camera_id,
        )
    merged = [
        {**c, "motion": saved[c["id"]].model_dump(mode="json")}
        if isinstance(c, dict) and c.get("id") in saved
        else c
        for c in cameras
    ]
    return {**data, "cameras": merged}


def save_motion(site: Path, camera_id: str, motion: CameraMotion | None) -> Path:
    """Save one camera's settings (None: forget them, back to the site file's); returns the
    sidecar's path. ValueError for settings that would not read back the same (text that TOML
    cannot carry), OSError when the folder cannot be written."""
    path = sidecar_path(site)
    with _lock:
        saved = read_sidecar(site)
        if motion is None:
            saved.pop(camera_id, None)
        else:
            saved[camera_id] = motion
        text = sidecar_text(saved.items())
        # Never write what the next start-up could not read.
        try:
            back = tomllib.loads(text).get("cameras", {})
            text.encode("utf-8")
        except (tomllib.TOMLDecodeError, UnicodeEncodeError) as exc:
            raise ValueError(f"the settings cannot be saved as TOML: {exc}") from None
        if {k: CameraMotion.model_validate(v) for k, v in back.items()} != saved:
            raise ValueError("the settings do not read back the same from TOML")
        _replace(path, text)
    return path


def sidecar_text(entries: Iterable[tuple[str, CameraMotion]]) -> str:
    """TOML of the sidecar: scalars first, then the zones and masks as arrays of tables."""
    lines = [HEADER]
    for camera_id, motion in sorted(entries):
        data = motion.model_dump(mode="json", exclude_none=True)
        zones, masks = data.pop("zones"), data.pop("masks")
        key = f"cameras.{_string(camera_id)}"
        lines.append(f"[{key}]")
        lines += _pairs(data)
        lines.append("")
        for name, items in (("zones", zones), ("masks", masks)):
            for item in items:
                lines.append(f"[[{key}.{name}]]")
                lines += _pairs(item)
                lines.append("")
    return "\n".join(lines)


def _pairs(table: dict[str, Any]) -> list[str]:
    return [f"{name} = {_value(value)}" for name, value in table.items()]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _string(text: str) -> str:
    # A JSON string is a TOML basic string (the same escapes: \", \\, \n, \uXXXX), but for
    # DEL, which JSON leaves as it is and TOML refuses.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with partial.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # The rename itself reaches the disk with the folder.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
