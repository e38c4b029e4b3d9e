// The live event stream (WS /api/events), reconnecting with backoff; listeners by event type.
import { session, toLogin } from "./api.js";

const listeners = new Map();
const stateListeners = new Set();
let socket = null;
let delay = 500;
export let state = "connecting";

export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

export function onState(fn) {
  stateListeners.add(fn);
  fn(state);
}

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
}

export function connect() {
  const s = session();
  if (!s) return toLogin();
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/api/events?token=${encodeURIComponent(s.token)}`);
  socket.onopen = () => {
    delay = 500;
    setState("open");
    // After a gap, views reload what they show: events may have been missed meanwhile.
    for (const fn of listeners.get("reconnect") || []) fn();
  };
  socket.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    for (const fn of listeners.get(msg.type) || []) fn(msg.data);
  };
  socket.onclose = () => {
    setState("closed");
    if (!session()) return toLogin();
    const wait = delay * (0.75 + Math.random() * 0.5);
    delay = Math.min(delay * 2, 10000);
    setTimeout(connect, wait);
  };
}
