// Every string a person sees or hears on the page, checked against the dashboard's catalogue of
// the current language (window.eccI18n.catalogue()). A string is explained when it is:
//   - a catalogue value, or an instance of a catalogue template ("{name}, {state}") whose
//     parameters are themselves explained;
//   - a name the site provides (stations, cameras, vehicles, rivers, groups...) or another
//     allowed data value, passed in `allowed`;
//   - without a letter of any script: a number, a time, a date, punctuation, an icon glyph;
//   - explained pieces joined by separators (" · ", "，", ", ", spaces), or a key cap (<kbd>).
// Returns what is not explained, each with where it was found.
({ allowed = [] } = {}) => {
  const catalogue = window.eccI18n ? window.eccI18n.catalogue() : {};
  const plain = new Set(allowed.map((s) => s.trim()).filter(Boolean));
  const templates = [];
  for (const value of Object.values(catalogue)) {
    if (/\{\w+\}/.test(value)) {
      // Literal pieces and parameters, in order: "{value}（{level} {threshold}）".
      templates.push(value.split(/(\{\w+\})/).filter((p) => p !== "").map((p) => (/^\{\w+\}$/.test(p) ? null : p)));
    } else if (value.trim()) {
      plain.add(value.trim());
    }
  }
  const LETTER = /\p{L}/u;
  const EDGES = /^[\s(（[【"“'‘:：,，;；.。!！?？·•]+|[\s)）\]】"”'’:：,，;；.。!！?？·•]+$/g;
  // Strong separators first: a multi-word catalogue value is not split into its words.
  const SEPARATORS = [/\s*[·•]\s*/, /\s*[()（）]\s*/, /\s*(?:，|, |；|; |：|: | \/ |\|)\s*/, /\s+/];
  const memo = new Map();

  function matches(parts, i, s, pos) {
    if (i === parts.length) return pos === s.length;
    const part = parts[i];
    if (part !== null) return s.startsWith(part, pos) && matches(parts, i + 1, s, pos + part.length);
    const next = parts[i + 1];
    if (next === undefined) return explained(s.slice(pos));
    for (let p = s.indexOf(next, pos + 1); p >= 0; p = s.indexOf(next, p + 1)) {
      if (explained(s.slice(pos, p)) && matches(parts, i + 1, s, p)) return true;
    }
    return false;
  }

  function explained(raw) {
    const s = raw.trim();
    if (!LETTER.test(s) || plain.has(s)) return true;
    if (memo.has(s)) return memo.get(s);
    memo.set(s, false); // a template whose parameter is the whole string must not loop
    let ok = templates.some((parts) => parts.some((p) => p !== null) && matches(parts, 0, s, 0));
    if (!ok) {
      const bare = s.replace(EDGES, "");
      if (bare !== s) ok = explained(bare);
    }
    for (const sep of SEPARATORS) {
      if (ok) break;
      const pieces = s.split(sep);
      if (pieces.length > 1) ok = pieces.every(explained);
    }
    memo.set(s, ok);
    return ok;
  }

  const describe = (el) => {
    let d = el.tagName.toLowerCase();
    if (el.id) d += `#${el.id}`;
    const cls = typeof el.className === "string" ? el.className.trim().split(/\s+/)[0] : "";
    return cls ? `${d}.${cls}` : d;
  };
  const shown = (el) => el.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true }) && el.getClientRects().length > 0;
  const found = [];
  const check = (text, where) => {
    if (!explained(text)) found.push(`${where}: ${JSON.stringify(text.trim())}`);
  };

  check(document.title, "title");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim() || el.closest("script, style, template, kbd, option")) continue;
    if (!shown(el)) continue;
    check(n.textContent, describe(el));
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (!shown(el)) continue;
    for (const attr of ["aria-label", "title", "placeholder", "alt"]) {
      const v = el.getAttribute(attr);
      if (v && v.trim()) check(v, `${describe(el)}[${attr}]`);
    }
    if (el.tagName === "SELECT") {
      // What the list offers when it opens, not only what it shows.
      for (const o of el.options) check(o.textContent, `${describe(el)} option`);
      for (const g of el.querySelectorAll("optgroup")) check(g.label, `${describe(el)} optgroup`);
    }
  }
  return [...new Set(found)];
}
