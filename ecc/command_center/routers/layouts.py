"""The caller's own wall layouts: the grid and tiles on the wall now, named layouts, own groups.

One small JSON document per user in the store's `state` repository (key `layouts/{username}`),
so a wall display comes up as its operator left it, on any center node.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ecc.command_center.deps import Principal, SiteDep, StoreDep, allow
from ecc.command_center.params import unprocessable
from ecc.config import Site

router = APIRouter(prefix="/api/me", tags=["users"])

KEY_PREFIX = "layouts/"
MAX_TILES = 16

Source = Annotated[
    str,
    StringConstraints(pattern=r"^(camera|vehicle):[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="what a tile shows: camera:{id} or vehicle:{id}"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grid(Strict):
    """The custom layout: columns by rows, optionally with a first tile twice as large."""

    cols: int = Field(3, ge=1, le=4)
    rows: int = Field(2, ge=1, le=4)
    big: bool = Field(False, description="the first tile spans two columns and two rows")

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.big and (self.cols < 2 or self.rows < 2):
            raise ValueError("a large first tile needs at least 2 columns and 2 rows")
        return self


class WallLayout(Strict):
    preset: Literal["1", "4", "9", "16", "custom"] = Field("4", description="tiles on the wall")
    custom: Grid = Field(default_factory=Grid)
    tiles: list[Source | None] = Field(
        default_factory=list, max_length=MAX_TILES, description="tile by tile; null: empty"
    )
    group: str | None = Field(None, max_length=64, description="the group shown, if any")
    cycle: bool = Field(False, description="step through the groups on a timer")
    cycle_s: int = Field(30, ge=5, le=3600, description="seconds per group when cycling")


class NamedLayout(Strict):
    name: Name
    layout: WallLayout


class UserGroup(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^u-[a-z0-9-]{1,40}$")]
    name: Name
    sources: list[Source] = Field(min_length=1, max_length=MAX_TILES)


class WallLayouts(Strict):
    current: WallLayout = Field(default_factory=WallLayout)
    saved: list[NamedLayout] = Field(default_factory=list, max_length=50)
    groups: list[UserGroup] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [n.name for n in self.saved]
        if len(set(names)) != len(names):
            raise ValueError("saved: two layouts have the same name")
        ids = [g.id for g in self.groups]
        if len(set(ids)) != len(ids):
            raise ValueError("groups: two groups have the same id")
        return self

    def sources(self) -> set[str]:
        layouts = [self.current, *(n.layout for n in self.saved)]
        found = {s for layout in layouts for s in layout.tiles if s is not None}
        return found | {s for g in self.groups for s in g.sources}


def known(site: Site, source: str) -> bool:
    kind, _, ident = source.partition(":")
    if kind == "camera":
        return site.camera(ident) is not None
    return site.vehicle(ident) is not None


def _pruned(site: Site, doc: WallLayouts) -> WallLayouts:
    """The document without cameras or vehicles the site file no longer has."""

    def layout(lay: WallLayout) -> WallLayout:
        tiles = [s if s is not None and known(site, s) else None for s in lay.tiles]
        return lay.model_copy(update={"tiles": tiles})

    groups = []
    for g in doc.groups:
        sources = [s for s in g.sources if known(site, s)]
        if sources:
            groups.append(g.model_copy(update={"sources": sources}))
    return doc.model_copy(
        update={
            "current": layout(doc.current),
            "saved": [n.model_copy(update={"layout": layout(n.layout)}) for n in doc.saved],
            "groups": groups,
        }
    )


def _first_visit(site: Site) -> WallLayouts:
    """What a user who never saved a layout sees: the site's first group, four tiles."""
    if not site.groups:
        return WallLayouts()
    group = site.groups[0]
    tiles: list[str | None] = [f"camera:{c}" for c in group.cameras]
    return WallLayouts(current=WallLayout(group=group.id, tiles=tiles))


@router.get("/layouts", response_model=WallLayouts)
def get_layouts(
    store: StoreDep, site: SiteDep, user: Annotated[Principal, allow("profile.manage")]
) -> WallLayouts:
    """The caller's wall layouts; on a first visit, the site's first camera group."""
    stored = store.state.get(KEY_PREFIX + user.username)
    if stored is None:
        return _first_visit(site)
    return _pruned(site, WallLayouts.model_validate(stored))


@router.put("/layouts", response_model=WallLayouts)
def put_layouts(
    body: WallLayouts,
    store: StoreDep,
    site: SiteDep,
    user: Annotated[Principal, allow("profile.manage")],
) -> WallLayouts:
    """Replace the caller's wall layouts (the whole document: PUT is idempotent)."""
    unknown = sorted(s for s in body.sources() if not known(site, s))
    if unknown:
        raise unprocessable(f"the site has no {', '.join(unknown)}")
    store.state.put(KEY_PREFIX + user.username, body.model_dump(mode="json"))
    return body
