// The HTTP API with the session's bearer token; a 401 sends the user back to the login page.
const TOKEN = "ecc.token";

export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(TOKEN) || "null");
    if (s && Date.parse(s.expires_at) > Date.now()) return s;
  } catch (_) { /* a broken entry is no session */ }
  return null;
}

export function saveSession(s) {
  localStorage.setItem(TOKEN, JSON.stringify(s));
}

export function logout() {
  localStorage.removeItem(TOKEN);
  location.assign("/login");
}

export function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path, { method = "GET", body, raw = false } = {}) {
  const s = session();
  const headers = {};
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && !path.startsWith("/api/auth/")) {
    toLogin();
    throw new ApiError(401, "not signed in");
  }
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const data = await res.json();
      detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
    } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, detail);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}
