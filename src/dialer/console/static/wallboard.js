// The wallboard: every agent's state and time in state (GET /api/agents/sessions), read again
// every 5 s until the live event stream (GET /api/events) takes over.
import { html, useEffect, useState } from './vendor/preact-htm.js';
import { get } from './api.js';
import { Empty, Loading, duration, useLoad } from './ui.js';

export function Wallboard() {
  const [state, reload] = useLoad(() => get('/api/agents/sessions'), []);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const poll = setInterval(reload, 5000);
    return () => { clearInterval(tick); clearInterval(poll); };
  }, []);
  return html`<div class="page wallboard">
    <h1>Wallboard</h1>
    <${Loading} state=${state}>${(agents) => {
      const list = Array.isArray(agents) ? agents : (agents.agents || []);
      if (!list.length) return html`<${Empty} title="No agents">Add agents with <code>dialer agent create</code> or the Dialer API.<//>`;
      const counts = {};
      for (const a of list) counts[a.state] = (counts[a.state] || 0) + 1;
      return html`
        <dl class="stats">${Object.entries(counts).map(([s, n]) => html`<div><dt>${s}</dt><dd>${n}</dd></div>`)}</dl>
        <table class="list">
          <thead><tr><th scope="col">Agent</th><th scope="col">State</th><th scope="col">For</th><th scope="col">Reason</th><th scope="col">Customer</th></tr></thead>
          <tbody>${list.map((a) => html`<tr>
            <td>${a.name} <span class="hint">${a.member}</span></td>
            <td><span class=${`badge state-${a.state}`}>${a.state}</span></td>
            <td>${a.since && a.state !== 'offline' ? duration((now - new Date(a.since).getTime()) / 1000) : '—'}</td>
            <td>${a.reason || ''}</td>
            <td>${a.customer ? (a.customer.name || a.customer.number) : ''}</td>
          </tr>`)}</tbody>
        </table>`;
    }}<//>
  </div>`;
}
