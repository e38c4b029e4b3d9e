// Every string the dashboard shows, in zh-CN and en. Elements carry data-i18n="key"
// (text) or data-i18n-attr="attr:key,attr:key"; code calls t(key, params).
const CATALOGUES = {
  "zh-CN": {
    "app.name": "应急指挥中心",
    "lang.switch": "English",
    "login.title": "登录 · 应急指挥中心",
    "login.subtitle": "视频监控与应急指挥系统",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.failed": "登录失败：{detail}",
    "login.network": "无法连接服务器，请检查网络",
    "nav.overview": "总览",
    "nav.stations": "监测站",
    "nav.alerts": "告警",
    "nav.cameras": "视频",
    "nav.playback": "录像回放",
    "nav.vehicles": "指挥车",
    "nav.vehicle": "车载终端",
    "nav.zones": "移动侦测区域",
    "nav.wall": "指挥大屏",
    "nav.main": "主导航",
    "nav.incidents": "事件",
    "nav.review": "事件回放",
    "nav.logout": "退出",
    "conn.connecting": "连接中",
    "conn.open": "实时",
    "conn.closed": "已断开，正在重连",
    "overview.stations": "监测站",
    "overview.cameras": "摄像机",
    "overview.vehicles": "指挥车",
    "overview.alerts": "未解除告警",
    "overview.recent": "最新告警",
    "overview.none": "暂无未解除告警",
    "alert.time": "时间",
    "alert.severity": "级别",
    "alert.source": "来源",
    "alert.message": "内容",
    "alert.state": "状态",
    "severity.info": "提示",
    "severity.warning": "警戒",
    "severity.danger": "危险",
    "severity.critical": "紧急",
    "state.active": "未确认",
    "state.acknowledged": "已确认",
    "state.resolved": "已解除",
    "role.admin": "管理员",
    "role.operator": "值班员",
    "role.leader": "领导",
    "role.crew": "车组",
    "error.load": "加载失败：{detail}",
  },
  en: {
    "app.name": "Emergency Command Center",
    "lang.switch": "中文",
    "login.title": "Sign in · Emergency Command Center",
    "login.subtitle": "Video monitoring and emergency command",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.failed": "Sign-in failed: {detail}",
    "login.network": "Cannot reach the server; check the network",
    "nav.overview": "Overview",
    "nav.stations": "Stations",
    "nav.alerts": "Alerts",
    "nav.cameras": "Cameras",
    "nav.playback": "Playback",
    "nav.vehicles": "Vehicles",
    "nav.vehicle": "In the vehicle",
    "nav.zones": "Motion zones",
    "nav.wall": "Wall",
    "nav.main": "Main",
    "nav.incidents": "Incidents",
    "nav.review": "Review",
    "nav.logout": "Sign out",
    "conn.connecting": "Connecting",
    "conn.open": "Live",
    "conn.closed": "Disconnected, reconnecting",
    "overview.stations": "Stations",
    "overview.cameras": "Cameras",
    "overview.vehicles": "Vehicles",
    "overview.alerts": "Open alerts",
    "overview.recent": "Latest alerts",
    "overview.none": "No open alerts",
    "alert.time": "Time",
    "alert.severity": "Severity",
    "alert.source": "Source",
    "alert.message": "Message",
    "alert.state": "State",
    "severity.info": "Info",
    "severity.warning": "Warning",
    "severity.danger": "Danger",
    "severity.critical": "Critical",
    "state.active": "Active",
    "state.acknowledged": "Acknowledged",
    "state.resolved": "Resolved",
    "role.admin": "Admin",
    "role.operator": "Operator",
    "role.leader": "Leader",
    "role.crew": "Crew",
    "error.load": "Could not load: {detail}",
  },
};

export const LANGUAGES = Object.keys(CATALOGUES);
const missing = new Set();

export function language() {
  const saved = localStorage.getItem("ecc.language");
  return CATALOGUES[saved] ? saved : "zh-CN";
}

export function setLanguage(lang) {
  if (!CATALOGUES[lang]) return;
  localStorage.setItem("ecc.language", lang);
  document.documentElement.lang = lang;
  apply(document);
  document.dispatchEvent(new CustomEvent("ecc:language", { detail: lang }));
}

/** Add a page's own strings: extend({"zh-CN": {...}, en: {...}}). */
export function extend(catalogues) {
  for (const [lang, entries] of Object.entries(catalogues)) Object.assign(CATALOGUES[lang], entries);
}

export function has(key, lang = language()) {
  return key in CATALOGUES[lang];
}

export function t(key, params = {}) {
  const lang = language();
  let text = CATALOGUES[lang][key];
  if (text === undefined) {
    missing.add(key);
    console.error(`i18n: no ${lang} string for ${key}`);
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Keys asked for that no catalogue has (the tests read this). */
export function missingKeys() {
  return [...missing];
}

export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** A name in the current language: name_en in English when the site gives one. */
export function localName(item) {
  return language() === "en" && item.name_en ? item.name_en : item.name;
}

/** Every string of one language (the tests check each visible text against these). */
export function catalogue(lang = language()) {
  return { ...CATALOGUES[lang] };
}

window.eccI18n = { t, has, language, missingKeys, catalogue, LANGUAGES };
