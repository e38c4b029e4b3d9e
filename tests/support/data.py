"""Where the real data of ../shared/data (clips, hydrological and air series) is found."""

from __future__ import annotations

import os
from pathlib import Path


def _find() -> Path:
    here = Path(__file__).resolve()
    candidates = (
        [Path(os.environ["ECC_TEST_SHARED_DATA"])] if "ECC_TEST_SHARED_DATA" in os.environ else []
    )
    candidates += [p / "shared" / "data" for p in here.parents] + [Path("/work/shared/data")]
    for c in candidates:
        if (c / "SOURCES.md").is_file():
            return c
    raise RuntimeError(
        "the shared data folder (../shared/data) was not found; set ECC_TEST_SHARED_DATA"
    )


SHARED_DATA = _find()
VIDEO = SHARED_DATA / "video"
HYDROLOGY = SHARED_DATA / "hydrology"
AIR = SHARED_DATA / "air"
RTSP = SHARED_DATA / "rtsp"
