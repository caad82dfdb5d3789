// The wallboard: every agent's state and time in state (GET /api/agents/sessions, then each
// `agent` event of GET /api/events applied as it comes), each campaign's calls on the line,
// answered calls waiting for an agent, numbers to dial and abandoned-call rate against its
// limit (the `campaign` events, which are the summaries), and the supervisor's view of each
// agent's day (GET /api/agents/report).
import { html, useEffect, useRef, useState } from './vendor/preact-htm.js';
import { get } from './api.js';
import { listen, onReconnect, perFrame } from './live.js';
import { useServerNow } from './clock.js';
import { Empty, Loading, duration, useLoad } from './ui.js';

const STATES = ['ready', 'reserved', 'talking', 'wrap-up', 'paused'];

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function percent(value) {
  return value === null || value === undefined ? '—' : `${Number(value).toFixed(1)}%`;
}

// Agents as the sessions endpoint gives them, with each live `agent` event applied on top.
function useAgents() {
  const [agents, setAgents] = useState(null);
  const [error, setError] = useState(null);
  const reloadTimer = useRef(null);
  useEffect(() => {
    let live = true;
    const load = () => get('/api/agents/sessions').then(
      (list) => { if (live) { setAgents(Array.isArray(list) ? list : (list.agents || [])); setError(null); } },
      (e) => { if (live) setError(e); },
    );
    // The event carries the state, not the customer: a newly bridged call is read again.
    const reloadSoon = () => {
      clearTimeout(reloadTimer.current);
      reloadTimer.current = setTimeout(load, 300);
    };
    load();
    const stopAgent = listen('agent', (event) => {
      setAgents((list) => {
        if (!list) return list;
        if (!list.some((a) => a.agentId === event.agentId)) { reloadSoon(); return list; }
        return list.map((a) => a.agentId === event.agentId ? {
          ...a, state: event.state, since: event.since, reason: event.reason,
          customer: event.state === 'reserved' || event.state === 'talking' || event.state === 'wrap-up' ? a.customer : null,
        } : a);
      });
      if (event.state === 'talking' || event.state === 'reserved') reloadSoon();
    });
    // A reconnection starts again with the whole picture: read the list again too (the first
    // opening follows the read above, so it needs none).
    const stopOpen = onReconnect(load);
    return () => { live = false; clearTimeout(reloadTimer.current); stopAgent(); stopOpen(); };
  }, []);
  return { agents, error };
}

function useCampaigns() {
  const [campaigns, setCampaigns] = useState(null);
  useEffect(() => {
    let live = true;
    get('/api/campaign/voice/summaries').then(
      (page) => live && setCampaigns((current) => current || Object.fromEntries((page.campaigns || page).map((c) => [c.id, c]))),
      () => live && setCampaigns((current) => current || {}),
    );
    const stop = listen('campaign', perFrame((summary) => summary.id, (batch) => setCampaigns(
      (c) => ({ ...(c || {}), ...Object.fromEntries(batch) }),
    )));
    return () => { live = false; stop(); };
  }, []);
  return campaigns;
}

function AgentsTable({ agents, now }) {
  if (!agents.length) return html`<${Empty} title="No agents">Add agents with <code>dialer agent create</code> or the Dialer API.<//>`;
  const counts = {};
  for (const a of agents) counts[a.state] = (counts[a.state] || 0) + 1;
  return html`
    <dl class="stats">${Object.entries(counts).map(([s, n]) => html`<div><dt>${s}</dt><dd>${n}</dd></div>`)}</dl>
    <table class="list wallboard-agents">
      <thead><tr><th scope="col">Agent</th><th scope="col">State</th><th scope="col">For</th><th scope="col">Reason</th><th scope="col">Customer</th></tr></thead>
      <tbody>${agents.map((a) => html`<tr data-agent=${a.member}>
        <td>${a.name} <span class="hint">${a.member}</span></td>
        <td><span class=${`badge state-${a.state}`}>${a.state}</span></td>
        <td>${a.since && a.state !== 'offline' ? duration((now - new Date(a.since).getTime()) / 1000) : '—'}</td>
        <td>${a.reason || ''}</td>
        <td>${a.customer ? (a.customer.name || a.customer.number) : ''}</td>
      </tr>`)}</tbody>
    </table>`;
}

// What the pacer last saw, only while the campaign dials: a paused or scheduled one keeps the
// count of its last decision, which is no longer true.
function waiting(c) {
  if (c.type !== 'agent') return '—';
  if (c.state !== 'Running' || c.waitingForAgent === null || c.waitingForAgent === undefined) return '—';
  return html`<span title=${`with ${c.agentsReady} agents ready, seen ${new Date(c.floorSeenAt).toLocaleTimeString()}`}>${c.waitingForAgent}</span>`;
}

function CampaignsTable({ campaigns }) {
  const running = Object.values(campaigns || {}).filter((c) => ['Running', 'Scheduled', 'Paused'].includes(c.state))
    .sort((a, b) => a.id - b.id);
  if (!running.length) return html`<p class="hint">No campaign is running, scheduled or paused.</p>`;
  return html`<table class="list wallboard-campaigns">
    <thead><tr><th scope="col">Campaign</th><th scope="col">State</th><th scope="col" class="num">On the line</th>
      <th scope="col" class="num">Answered calls waiting</th><th scope="col" class="num">Numbers to dial</th><th scope="col" class="num">Abandoned</th><th scope="col" class="num">Limit</th></tr></thead>
    <tbody>${running.map((c) => {
      const over = c.abandonedRate !== null && c.abandonedRate !== undefined && c.abandonedLimit !== null && c.abandonedLimit !== undefined
        && c.abandonedRate > c.abandonedLimit;
      return html`<tr>
        <td><a href=${`#/campaigns/${c.id}`}>${c.name}</a></td>
        <td>${c.state}</td>
        <td class="num">${c.inFlight}</td>
        <td class="num">${waiting(c)}</td>
        <td class="num">${c.pending}</td>
        <td class=${'num' + (over ? ' error' : '')}>${c.type === 'agent' ? percent(c.abandonedRate) : 'IVR'}${over ? ' (over)' : ''}</td>
        <td class="num">${c.type === 'agent' ? `${percent(c.abandonedLimit)}${c.abandonedWindow ? ` / ${c.abandonedWindow}` : ''}` : '—'}</td>
      </tr>`;
    })}</tbody>
  </table>`;
}

function AgentsDay() {
  const [day, setDay] = useState(today());
  const [state] = useLoad(() => get(`/api/agents/report?day=${encodeURIComponent(day)}`), [day]);
  return html`<section class="card" aria-labelledby="day-h">
    <h2 id="day-h">Each agent's day</h2>
    <div class="field"><label for="day-pick">Day</label>
      <input id="day-pick" type="date" value=${day} onChange=${(e) => e.target.value && setDay(e.target.value)} /></div>
    <${Loading} state=${state}>${(report) => report.agents.length ? html`
      <table class="list agents-day">
        <caption class="hint">${report.day}, ${report.timezone}; offline time is not counted.</caption>
        <thead><tr><th scope="col">Agent</th>${STATES.map((s) => html`<th scope="col" class="num">${s}</th>`)}<th scope="col" class="num">Logged in</th></tr></thead>
        <tbody>${report.agents.map((a) => html`<tr>
          <td>${a.name} <span class="hint">${a.member}</span></td>
          ${STATES.map((s) => html`<td class="num">${duration(a.seconds[s] || 0)}</td>`)}
          <td class="num">${duration(a.loggedInSeconds)}</td>
        </tr>`)}</tbody>
      </table>` : html`<${Empty} title="No agents">Nobody to report on.<//>`}<//>
  </section>`;
}

export function Wallboard() {
  const { agents, error } = useAgents();
  const campaigns = useCampaigns();
  const now = useServerNow();
  const agentState = { loading: agents === null && !error, data: agents, error };
  return html`<div class="page wallboard">
    <h1>Wallboard</h1>
    <section class="card" aria-labelledby="wb-agents-h">
      <h2 id="wb-agents-h">Agents</h2>
      <${Loading} state=${agentState}>${(list) => html`<${AgentsTable} agents=${list} now=${now} />`}<//>
    </section>
    <section class="card" aria-labelledby="wb-campaigns-h">
      <h2 id="wb-campaigns-h">Campaigns</h2>
      ${campaigns === null ? html`<p class="loading" role="status">Loading…</p>` : html`<${CampaignsTable} campaigns=${campaigns} />`}
    </section>
    <${AgentsDay} />
  </div>`;
}
