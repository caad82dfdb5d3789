// Live updates: one EventSource on GET /api/events per page, shared by every view that listens
// (campaigns list and page, wallboard, desk), so a page with three live panels holds one stream.
//
//   const stop = listen('campaign', (summary) => ...);      // also 'agent'
//   const stop = onReconnect(() => reloadWhatYouShow());    // after the stream came back
//   useLive('campaign', callback, deps)                      // the same as a Preact hook
//
// The stream opens with the first listener and closes with the last. An EventSource reconnects
// by itself (the server sends `retry: 2000`); when the browser gives up (the stream answered an
// error status, or `event: revoked` ended it) this module reopens it with a growing delay, up to
// 30 s. Whatever happened while it was down is not replayed (the server starts again with the
// whole picture), and views may also reload on reconnect so a missed change never sticks.
import { useEffect, useRef } from './vendor/preact-htm.js';

const handlers = new Map(); // event type -> Set of callbacks
const reconnectHandlers = new Set();
let source = null;
let retryTimer = null;
let retryDelay = 1000;
let hadError = false;

function count() {
  let n = reconnectHandlers.size;
  for (const set of handlers.values()) n += set.size;
  return n;
}

function dispatch(type, event) {
  const set = handlers.get(type);
  if (!set || !set.size) return;
  let data;
  try { data = JSON.parse(event.data); } catch (_) { return; }
  for (const callback of [...set]) {
    try { callback(data); } catch (error) { console.error(error); }
  }
}

function attach(type) {
  if (source) source.addEventListener(type, (event) => dispatch(type, event));
}

function open() {
  if (source || retryTimer) return;
  source = new EventSource('/api/events', { withCredentials: true });
  for (const type of handlers.keys()) attach(type);
  source.addEventListener('open', () => {
    retryDelay = 1000;
    if (hadError) {
      hadError = false;
      for (const callback of [...reconnectHandlers]) {
        try { callback(); } catch (error) { console.error(error); }
      }
    }
  });
  source.addEventListener('error', () => {
    hadError = true;
    if (source && source.readyState === EventSource.CLOSED) reopenLater();
  });
  // The session ended (logout, a revoked token): stop here; the next listener opens a new one.
  source.addEventListener('revoked', () => close());
}

function reopenLater() {
  close();
  if (!count()) return;
  retryTimer = setTimeout(() => { retryTimer = null; if (count()) open(); }, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 30000);
}

function close() {
  if (source) { source.close(); source = null; }
}

function stopIfUnused() {
  if (count()) return;
  close();
  if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
  hadError = false;
}

export function listen(type, callback) {
  let set = handlers.get(type);
  if (!set) {
    set = new Set();
    handlers.set(type, set);
    attach(type);
  }
  set.add(callback);
  open();
  return () => { set.delete(callback); stopIfUnused(); };
}

export function onReconnect(callback) {
  reconnectHandlers.add(callback);
  open();
  return () => { reconnectHandlers.delete(callback); stopIfUnused(); };
}

// A callback that gathers events by `key` and hands them to `apply` (a Map) once a frame: the
// stream opens with the whole picture, an event per campaign, and a render per event of a page
// showing 100 campaigns took over a second (bench/console.py).
export function perFrame(key, apply) {
  let pending = null;
  return (event) => {
    if (!pending) {
      pending = new Map();
      requestAnimationFrame(() => {
        const batch = pending;
        pending = null;
        apply(batch);
      });
    }
    pending.set(key(event), event);
  };
}

// Preact hook: `callback` may change every render; the subscription does not.
export function useLive(type, callback) {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => listen(type, (data) => latest.current(data)), [type]);
}

export function useReconnect(callback) {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => onReconnect(() => latest.current()), []);
}
