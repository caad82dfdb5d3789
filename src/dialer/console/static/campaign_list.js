// The campaigns list, live: GET /api/campaign/voice/summaries once, then each `campaign` event
// of GET /api/events replaces that campaign's row (no reload per event). After the stream
// reconnects the summaries are read again, so nothing missed while it was down sticks.
import { html, useState } from './vendor/preact-htm.js';
import { get } from './api.js';
import { Empty, Loading, useLoad } from './ui.js';
import { perFrame, useLive, useReconnect } from './live.js';
import { Progress, eta, percent } from './campaign_bits.js';

const STATES = ['Scheduled', 'Running', 'Paused', 'Finished', 'Expired', 'Cancelled'];

export function CampaignList() {
  const [state, reload] = useLoad(() => get('/api/campaign/voice/summaries'), []);
  // Summaries from the stream, by id, newer than the loaded list (cleared by each reload).
  const [fresh, setFresh] = useState({});
  const [query, setQuery] = useState('');
  const [wanted, setWanted] = useState('');
  const [byFrame] = useState(() => perFrame((s) => s.id, (batch) => setFresh(
    (f) => ({ ...f, ...Object.fromEntries(batch) }),
  )));
  useLive('campaign', byFrame);
  useReconnect(() => { setFresh({}); reload(); });
  return html`<div class="page">
    <div class="page-head">
      <h1>Campaigns</h1>
      <a class="button" href="#/campaigns/new">New campaign</a>
    </div>
    <form class="filters" role="search" aria-label="Filter campaigns" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="f-q">Name or id</label>
        <input id="f-q" type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} /></div>
      <div class="field"><label for="f-state">State</label>
        <select id="f-state" value=${wanted} onChange=${(e) => setWanted(e.target.value)}>
          <option value="">Any</option>${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select></div>
    </form>
    <${Loading} state=${state}>${(loaded) => {
      const byId = new Map(loaded.map((s) => [s.id, s]));
      for (const s of Object.values(fresh)) byId.set(s.id, s);
      const all = [...byId.values()].sort((a, b) => a.id - b.id);
      if (!all.length) {
        return html`<${Empty} title="No campaigns yet">Create one with <a href="#/campaigns/new">New campaign</a>, or POST it to /api/campaign/voice.<//>`;
      }
      const q = query.trim().toLowerCase();
      const shown = all.filter((c) => (!wanted || c.state === wanted)
        && (!q || (c.name || '').toLowerCase().includes(q) || String(c.id) === q));
      if (!shown.length) return html`<${Empty} title="No campaign matches">Clear the filters to see all ${all.length}.<//>`;
      return html`<table class="list campaigns">
        <caption class="visually-hidden">Campaigns, updated live</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Progress</th>
          <th scope="col" class="num">Done / total</th><th scope="col" class="num">Answer rate</th>
          <th scope="col" class="num">Abandoned (limit)</th><th scope="col" class="num">On the line</th>
          <th scope="col">Finishes in</th></tr></thead>
        <tbody>${shown.map((c) => html`<tr data-campaign=${c.id}>
          <td><a href=${`#/campaigns/${c.id}`}>${c.name || `Campaign ${c.id}`}</a>
            <span class="muted"> ${c.type === 'agent' ? 'Agent' : 'IVR'}</span></td>
          <td><span class=${`badge ${c.state.toLowerCase()}`}>${c.state}</span></td>
          <td><${Progress} summary=${c} label=${`${c.name || `Campaign ${c.id}`}: numbers finished`} /></td>
          <td class="num done">${(c.done + c.cancelled).toLocaleString()} / ${c.total.toLocaleString()}</td>
          <td class="num">${percent(c.answerRate)}</td>
          <td class="num">${c.abandonedLimit === null || c.abandonedLimit === undefined ? '—'
            : html`<span class=${c.abandonedRate !== null && c.abandonedRate > c.abandonedLimit ? 'over' : ''}>${percent(c.abandonedRate)} (${percent(c.abandonedLimit)})</span>`}</td>
          <td class="num">${c.inFlight.toLocaleString()}</td>
          <td>${eta(c)}</td>
        </tr>`)}</tbody>
      </table>`;
    }}<//>
  </div>`;
}
