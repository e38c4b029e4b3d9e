// The video grid of the operator's wall: presets of 1, 4, 9 and 16 tiles and a custom grid
// (columns × rows, optionally with a first tile twice as large). Cameras and vehicles are
// dragged into a tile (or put into the selected one from the keyboard); tiles watch the sub
// stream, and a tile made full screen covers the grid with the main stream and its sound.
//
//   const wall = new VideoWall(el, { full, resolve, token, onChange });
//   wall.setLayout({ preset: "9", custom }); wall.setSources(["camera:dam-east", null, ...]);
//
// Keyboard, on a tile: arrows move between tiles, Enter opens it full screen, Delete empties it.
import { apply, extend, t } from "./i18n.js";
import { badge } from "./severity.js";
import { createTile } from "./tiles.js";

extend({
  "zh-CN": {
    "wall.grid": "视频画面",
    "wall.tile_label": "画面 {n}：{name}",
    "wall.tile_empty": "画面 {n}：空",
    "wall.drop_here": "拖入摄像机或指挥车",
    "wall.full": "全屏 {name}",
    "wall.clear": "清空画面 {n}",
    "wall.full_close": "退出全屏",
    "wall.linked": "告警联动",
  },
  en: {
    "wall.grid": "Video tiles",
    "wall.tile_label": "Tile {n}: {name}",
    "wall.tile_empty": "Tile {n}: empty",
    "wall.drop_here": "Drop a camera or vehicle here",
    "wall.full": "{name} full screen",
    "wall.clear": "Empty tile {n}",
    "wall.full_close": "Leave full screen",
    "wall.linked": "Alert camera",
  },
});

export const MAX_TILES = 16;
export const PRESETS = {
  1: { cols: 1, rows: 1 },
  4: { cols: 2, rows: 2 },
  9: { cols: 3, rows: 3 },
  16: { cols: 4, rows: 4 },
};
// What a drag carries: a source ("camera:id", "vehicle:id"), and the tile it left, if any.
export const DRAG_SOURCE = "application/x-ecc-source";
const DRAG_TILE = "application/x-ecc-tile";

const ICONS = {
  full: '<svg viewBox="0 0 20 20" width="1em" height="1em" aria-hidden="true" focusable="false"><path d="M2 7V2h5M13 2h5v5M18 13v5h-5M7 18H2v-5" fill="none" stroke="currentColor" stroke-width="2.2"/></svg>',
  clear: '<svg viewBox="0 0 20 20" width="1em" height="1em" aria-hidden="true" focusable="false"><path d="M4 4l12 12M16 4L4 16" fill="none" stroke="currentColor" stroke-width="2.4"/></svg>',
};

/** Columns, rows, large first tile and tile count of a layout ({preset, custom}). */
export function gridOf(layout) {
  const custom = layout.preset === "custom";
  const g = custom ? layout.custom : PRESETS[layout.preset] || PRESETS[4];
  const big = custom && Boolean(g.big) && g.cols >= 2 && g.rows >= 2;
  return { cols: g.cols, rows: g.rows, big, count: g.cols * g.rows - (big ? 3 : 0) };
}

export class VideoWall {
  /**
   * options: full (element the full-screen tile covers), resolve(source) -> {item, name(),
   * url(stream), panel()?} or null (panel: what full screen shows instead of a plain tile, such
   * as a vehicle's talkback panel: {el, tile, start(), stop()}), token() -> bearer token,
   * onChange(reason) for the operator's own changes, onFull(open).
   */
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.layout = { preset: "4", custom: { cols: 3, rows: 2, big: false } };
    this.grid = gridOf(this.layout);
    this.sources = Array(MAX_TILES).fill(null);
    this.cells = [];
    this.selected = 0;
    this.marks = new Map(); // source -> {severity, label}
    this.statuses = new Map(); // camera id -> health
    this.full = null;
    root.classList.add("wall-grid");
    root.setAttribute("role", "group");
    root.dataset.i18nAttr = "aria-label:wall.grid";
    root.addEventListener("keydown", (e) => this._onKey(e));
    this._onLanguage = () => this._relabel();
    document.addEventListener("ecc:language", this._onLanguage);
  }

  // --- layout and sources ----------------------------------------------------------------

  setLayout(layout) {
    this.layout = { preset: layout.preset, custom: { ...this.layout.custom, ...(layout.custom || {}) } };
    this.grid = gridOf(this.layout);
    this._render();
  }

  /** Replace what the tiles show (a group, a saved layout); `list` is tile by tile. */
  setSources(list) {
    this.sources = Array.from({ length: MAX_TILES }, (_, i) => list[i] ?? null);
    this._render();
  }

  /** What the visible tiles show, tile by tile. */
  visible() {
    return this.sources.slice(0, this.grid.count);
  }

  /** Put a source into a tile (null empties it); a source shown elsewhere moves there. */
  place(index, source, { user = true } = {}) {
    if (index < 0 || index >= this.grid.count) return;
    const before = this.visible().indexOf(source);
    if (source && before >= 0 && before !== index) {
      this.swap(before, index, { user });
      return;
    }
    this.sources[index] = source;
    this._fill(this.cells[index]);
    if (user) this.options.onChange?.("place");
  }

  swap(a, b, { user = true } = {}) {
    if (a === b) return;
    [this.sources[a], this.sources[b]] = [this.sources[b], this.sources[a]];
    const ca = this.cells[a];
    const cb = this.cells[b];
    // The tiles move with their pictures: no new WHEP session for a rearrangement.
    [ca.tile, cb.tile] = [cb.tile, ca.tile];
    [ca.source, cb.source] = [cb.source, ca.source];
    for (const c of [ca, cb]) this._mount(c);
    if (user) this.options.onChange?.("swap");
  }

  /**
   * Bring sources onto the wall (an alert's cameras): one already in a tile stays there, the
   * others go into the first tiles (the large one of a custom grid) that do not hold one of
   * them; what they displace moves to an empty tile when there is one. Returns the tiles used.
   */
  bring(sources) {
    const wanted = sources.slice(0, this.grid.count);
    const used = new Set(wanted.map((s) => this.visible().indexOf(s)).filter((i) => i >= 0));
    const out = [];
    for (const s of wanted) {
      let i = this.visible().indexOf(s);
      if (i < 0) {
        i = 0;
        while (used.has(i)) i++;
        used.add(i);
        const empty = this.visible().findIndex((x, j) => x === null && !used.has(j));
        if (this.sources[i] !== null && empty >= 0) this.swap(i, empty, { user: false });
        this.place(i, s, { user: false });
      }
      out.push(i);
    }
    return out;
  }

  // --- alert marks, health ---------------------------------------------------------------

  /** Mark a source's tile as showing an alert's camera ({severity, label}), or unmark (null). */
  mark(source, info) {
    if (info) this.marks.set(source, info);
    else this.marks.delete(source);
    for (const c of this.cells) if (c.source === source) this._decorate(c);
  }

  /** A camera health event ({id, online, fps, ...}). */
  setStatus(status) {
    this.statuses.set(status.id, status);
    const source = `camera:${status.id}`;
    for (const c of this.cells) if (c.source === source && c.tile) c.tile.setStatus(status);
    if (this.full && this.full.source === source) this.full.tile.setStatus(status);
  }

  // --- selection and full screen ---------------------------------------------------------

  select(index, { focus = false } = {}) {
    if (!this.cells.length) return;
    this.selected = Math.max(0, Math.min(index, this.cells.length - 1));
    this.cells.forEach((c, i) => {
      c.el.tabIndex = i === this.selected ? 0 : -1;
      c.el.classList.toggle("is-selected", i === this.selected);
    });
    if (focus) this.cells[this.selected].el.focus();
  }

  /** The tile a source from the list or the map goes into: the selected one. */
  target() {
    return this.selected;
  }

  focus() {
    this.select(this.selected, { focus: true });
  }

  openFull(index = this.selected) {
    const cell = this.cells[index];
    if (!cell || !cell.source) return false;
    const r = this.options.resolve(cell.source);
    if (!r) return false;
    this.closeFull({ restore: false });
    const box = document.createElement("div");
    box.className = "wall-full";
    box.dataset.layer = "full";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", t("wall.full", { name: r.name() }));
    const panel = r.panel ? r.panel() : null;
    const tile = panel ? panel.tile : createTile(r.item, { url: r.url("main"), token: this.options.token, audio: true });
    tile.el.dataset.source = cell.source;
    const status = this.statuses.get(r.item.id);
    if (cell.source.startsWith("camera:") && status) tile.setStatus(status);
    const close = document.createElement("button");
    close.type = "button";
    close.className = "wall-full-close";
    close.dataset.i18n = "wall.full_close";
    close.addEventListener("click", () => this.closeFull());
    box.append(panel ? panel.el : tile.el, close);
    this.options.full.append(box);
    apply(box);
    (panel || tile).start();
    this.full = { box, tile, panel, source: cell.source, index, name: r.name };
    this.select(index);
    close.focus();
    this.options.onFull?.(true);
    return true;
  }

  closeFull({ restore = true } = {}) {
    if (!this.full) return false;
    (this.full.panel || this.full.tile).stop();
    this.full.box.remove();
    const { index } = this.full;
    this.full = null;
    if (restore) this.select(index, { focus: true });
    this.options.onFull?.(false);
    return true;
  }

  stopAll() {
    this.closeFull({ restore: false });
    for (const c of this.cells) c.tile?.stop();
  }

  // --- drawing ---------------------------------------------------------------------------

  _render() {
    const g = this.grid;
    this.root.style.setProperty("--cols", g.cols);
    this.root.style.setProperty("--rows", g.rows);
    this.root.classList.toggle("has-big", g.big);
    this.root.dataset.count = String(g.count);
    while (this.cells.length < g.count) {
      const cell = this._cell(this.cells.length);
      this.cells.push(cell);
      this.root.append(cell.el);
    }
    while (this.cells.length > g.count) {
      const cell = this.cells.pop();
      cell.tile?.stop();
      cell.el.remove();
    }
    for (const c of this.cells) this._fill(c);
    if (this.full && !this.visible().includes(this.full.source)) this.closeFull({ restore: false });
    this.select(Math.min(this.selected, g.count - 1));
  }

  _cell(index) {
    const el = document.createElement("div");
    el.className = "wall-cell";
    el.tabIndex = -1;
    el.dataset.index = String(index);
    el.innerHTML = `
      <div class="cell-body"></div>
      <div class="cell-alert" hidden></div>
      <div class="cell-tools" data-layer="tools">
        <button type="button" class="icon" data-tool="full">${ICONS.full}</button>
        <button type="button" class="icon" data-tool="clear">${ICONS.clear}</button>
      </div>`;
    const cell = { el, index, source: undefined, tile: null };
    el.addEventListener("click", (e) => {
      const tool = e.target.closest("[data-tool]");
      if (tool?.dataset.tool === "full") this.openFull(cell.index);
      else if (tool?.dataset.tool === "clear") this.place(cell.index, null);
      this.select(cell.index, { focus: !tool });
    });
    el.addEventListener("dblclick", (e) => {
      if (!e.target.closest("[data-tool]")) this.openFull(cell.index);
    });
    el.addEventListener("dragstart", (e) => {
      if (!cell.source) return e.preventDefault();
      e.dataTransfer.setData(DRAG_SOURCE, cell.source);
      e.dataTransfer.setData(DRAG_TILE, String(cell.index));
      e.dataTransfer.effectAllowed = "move";
    });
    el.addEventListener("dragover", (e) => {
      if (!e.dataTransfer.types.includes(DRAG_SOURCE)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = e.dataTransfer.types.includes(DRAG_TILE) ? "move" : "copy";
      el.classList.add("is-drop");
    });
    el.addEventListener("dragleave", (e) => {
      if (!el.contains(e.relatedTarget)) el.classList.remove("is-drop");
    });
    el.addEventListener("drop", (e) => {
      el.classList.remove("is-drop");
      const source = e.dataTransfer.getData(DRAG_SOURCE);
      if (!source) return;
      e.preventDefault();
      const from = e.dataTransfer.getData(DRAG_TILE);
      if (from !== "") this.swap(Number(from), cell.index);
      else this.place(cell.index, source);
      this.select(cell.index, { focus: true });
    });
    return cell;
  }

  // Show the cell's source: a tile on its sub stream, or the empty placeholder.
  _fill(cell) {
    const source = this.sources[cell.index] ?? null;
    const r = source ? this.options.resolve(source) : null;
    const want = r ? source : null;
    if (cell.source === want && (want === null || cell.tile)) {
      this._decorate(cell);
      return;
    }
    cell.tile?.stop();
    cell.tile = null;
    cell.source = want;
    if (r) {
      cell.tile = createTile(r.item, { url: r.url("sub"), token: this.options.token });
      cell.tile.el.dataset.source = want;
      const status = want.startsWith("camera:") ? this.statuses.get(r.item.id) : null;
      if (status) cell.tile.setStatus(status);
      cell.tile.start();
    }
    this._mount(cell);
  }

  _mount(cell) {
    const body = cell.el.querySelector(".cell-body");
    if (cell.tile) {
      body.replaceChildren(cell.tile.el);
      // A media element taken out of the document pauses; carry on where it was moved to.
      cell.tile.video.play().catch(() => {});
    } else {
      const empty = document.createElement("div");
      empty.className = "cell-empty";
      empty.innerHTML = `<span class="cell-num"></span><span data-i18n="wall.drop_here"></span>`;
      empty.querySelector(".cell-num").textContent = String(cell.index + 1);
      body.replaceChildren(empty);
    }
    this._decorate(cell);
  }

  _decorate(cell) {
    const el = cell.el;
    const r = cell.source ? this.options.resolve(cell.source) : null;
    const n = cell.index + 1;
    el.dataset.source = cell.source || "";
    el.draggable = Boolean(cell.source);
    el.classList.toggle("is-big", this.grid.big && cell.index === 0);
    el.setAttribute(
      "aria-label",
      r ? t("wall.tile_label", { n, name: r.name() }) : t("wall.tile_empty", { n }),
    );
    const tools = el.querySelector(".cell-tools");
    tools.hidden = !r;
    if (r) {
      tools.querySelector('[data-tool="full"]').setAttribute("aria-label", t("wall.full", { name: r.name() }));
      tools.querySelector('[data-tool="clear"]').setAttribute("aria-label", t("wall.clear", { n }));
    }
    const mark = cell.source ? this.marks.get(cell.source) : null;
    const alertEl = el.querySelector(".cell-alert");
    alertEl.hidden = !mark;
    el.dataset.alert = mark ? mark.severity : "";
    if (mark) {
      const word = document.createElement("span");
      word.textContent = mark.label ? `${t("wall.linked")} · ${mark.label}` : t("wall.linked");
      alertEl.replaceChildren(badge(mark.severity), word);
    }
    apply(el);
  }

  _relabel() {
    for (const c of this.cells) this._decorate(c);
    if (this.full) {
      this.full.box.setAttribute("aria-label", t("wall.full", { name: this.full.name() }));
      apply(this.full.box);
    }
  }

  _onKey(e) {
    const cellEl = e.target.closest(".wall-cell");
    if (!cellEl || e.target !== cellEl || e.altKey || e.ctrlKey || e.metaKey) return;
    const i = Number(cellEl.dataset.index);
    const cols = this.grid.cols;
    const last = this.cells.length - 1;
    const moves = {
      ArrowLeft: i - 1,
      ArrowRight: i + 1,
      ArrowUp: i - cols,
      ArrowDown: i + cols,
      Home: 0,
      End: last,
    };
    if (e.key in moves) {
      e.preventDefault();
      this.select(Math.max(0, Math.min(last, moves[e.key])), { focus: true });
    } else if (e.key === "Enter") {
      e.preventDefault();
      this.openFull(i);
    } else if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      this.place(i, null);
    }
  }
}
