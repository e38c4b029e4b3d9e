"""The token signing key: ECC_SECRET, or one generated once into the data folder.

Every process of one installation must sign with the same key, so the generated key lives in a
file that all of them read rather than in one process's memory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ecc.config.settings import Settings


def signing_secret(settings: Settings) -> bytes:
    if settings.secret is not None:
        return settings.secret.get_secret_value().encode()
    path = settings.data_dir / "secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    try:
        # link() fails if another process created the key first; then use theirs.
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_bytes().strip()
    finally:
        tmp.unlink()
    return key
