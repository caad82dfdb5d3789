// The service's clock (GET /api/time, no key needed). States' `since` and the wrap-up's end are
// the service's times, and under `dialer serve --speed N` its clock runs N times faster than the
// browser's (and the two machines' clocks may differ anyway), so "time in state" and the wrap-up
// countdown are read against it, never against Date.now() alone.
import { useEffect, useState } from './vendor/preact-htm.js';

let base = null; // { server: ms, browser: ms, speed: number | null }
let loading = null;

function load() {
  if (!loading) {
    loading = fetch('/api/time', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((t) => {
        if (t && t.now) base = { server: Date.parse(t.now), browser: Date.now(), speed: t.speed };
      })
      .catch(() => {})
      .finally(() => { loading = null; });
  }
  return loading;
}

// The service's time now, in ms. `speed` null is `--speed max`: its time jumps whenever the
// engine idles, so it does not run between reads (it is read again every tick instead).
export function serverNow() {
  if (!base) return Date.now();
  return base.server + (Date.now() - base.browser) * (base.speed ?? 0);
}

// A Preact hook: the service's time, ticking every second while `active`.
export function useServerNow(active = true) {
  const [now, setNow] = useState(serverNow());
  useEffect(() => {
    if (!active) return undefined;
    load().then(() => setNow(serverNow()));
    const tick = setInterval(() => {
      if (base && base.speed === null) load();
      setNow(serverNow());
    }, 1000);
    const again = setInterval(load, 60000); // the two clocks drift apart slowly
    return () => { clearInterval(tick); clearInterval(again); };
  }, [active]);
  return now;
}
