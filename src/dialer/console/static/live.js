// The live event stream (GET /api/events, Server-Sent Events): one EventSource per page, shared
// by every view that listens, opened with the first listener and closed with the last. The
// browser reconnects by itself; each (re)connection starts with the whole picture.
let source = null;
const listeners = new Set();

function dispatch(kind, event) {
  let data;
  try { data = JSON.parse(event.data); } catch (_) { return; }
  for (const l of listeners) if (l.kind === kind) l.callback(data);
}

function open() {
  source = new EventSource('/api/events', { withCredentials: true });
  for (const kind of ['campaign', 'agent']) source.addEventListener(kind, (e) => dispatch(kind, e));
  source.onopen = () => { for (const l of listeners) if (l.kind === 'open') l.callback(); };
}

// Calls `callback(data)` for each event of `kind` ('campaign', 'agent', or 'open' on each
// (re)connection); returns the function that stops listening.
export function listen(kind, callback) {
  const entry = { kind, callback };
  listeners.add(entry);
  if (!source) open();
  return () => {
    listeners.delete(entry);
    if (!listeners.size && source) { source.close(); source = null; }
  };
}
