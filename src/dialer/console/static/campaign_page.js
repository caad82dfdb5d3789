// One campaign, live: the settings from GET .../{id} (one number, for the schedule), the counters
// from GET .../{id}/summary replaced by each `campaign` event of the stream, the lifecycle by
// POST .../pause | resume | cancel, then the charts, the numbers and the CSV upload.
import { html, useState } from './vendor/preact-htm.js';
import { ApiError, del, get, post } from './api.js';
import { Loading, Notice, useLoad } from './ui.js';
import { useLive, useReconnect } from './live.js';
import { Progress, eta, percent } from './campaign_bits.js';
import { Charts } from './charts.js';
import { NumbersTable } from './numbers.js';
import { Upload } from './upload.js';

const BASE = '/api/campaign/voice';
const SAID = {
  pause: 'The campaign is paused: no new calls start (calls on the line finish).',
  resume: 'The campaign is dialling again.',
  cancel: 'The campaign is cancelled: its waiting numbers will not be called.',
};

export function CampaignPage({ id }) {
  const path = `${BASE}/${encodeURIComponent(id)}`;
  const [state, reload] = useLoad(async () => {
    const [campaign, summary] = await Promise.all([get(`${path}?numbersLimit=1`), get(`${path}/summary`)]);
    return { campaign, summary };
  }, [id]);
  const [live, setLive] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [numbersTick, setNumbersTick] = useState(0);
  useLive('campaign', (s) => { if (String(s.id) === String(id)) setLive(s); });
  useReconnect(() => { setLive(null); reload(); });

  async function act(c, verb) {
    if (verb === 'cancel' && !window.confirm(`Cancel ${c.name || 'this campaign'}? Its waiting numbers will never be called, and a cancelled campaign cannot be resumed.`)) return;
    setBusy(true);
    setNotice(null);
    try {
      await post(`${path}/${verb}`);
      setNotice({ kind: 'ok', text: SAID[verb] });
      setLive(null);
      reload();
    } catch (error) {
      const refused = error instanceof ApiError && error.status === 409;
      setNotice({ kind: 'error', text: refused ? `Not possible now: ${error.message}` : error.message });
      // The page was behind (the campaign changed elsewhere): show where it really is.
      if (refused) { setLive(null); reload(); }
    } finally {
      setBusy(false);
    }
  }
  async function remove(c) {
    if (!window.confirm(`Delete ${c.name || 'this campaign'} with its numbers and their history?`)) return;
    try {
      await del(`${BASE}/${c.id}`);
      location.hash = '#/campaigns';
    } catch (error) {
      setNotice({ kind: 'error', text: error.message });
    }
  }

  return html`<div class="page"><${Loading} state=${state}>${({ campaign: c, summary: loaded }) => {
    const s = live && live.id === loaded.id ? live : loaded;
    const open = ['Scheduled', 'Running', 'Paused'].includes(s.state);
    return html`
      <div class="page-head">
        <h1>${c.name || `Campaign ${c.id}`}</h1>
        <span class=${`badge ${s.state.toLowerCase()}`} data-testid="campaign-state">${s.state}</span>
      </div>
      <${Notice} notice=${notice} />
      <div class="actions">
        ${s.state === 'Paused'
          ? html`<button type="button" disabled=${busy} onClick=${() => act(c, 'resume')}>Resume</button>`
          : open ? html`<button type="button" disabled=${busy} onClick=${() => act(c, 'pause')}>Pause</button>` : null}
        ${open ? html`<button type="button" class="danger" disabled=${busy} onClick=${() => act(c, 'cancel')}>Cancel campaign</button>` : null}
        <a class="button secondary" href=${`#/campaigns/${c.id}/edit`}>Edit</a>
        <a class="button secondary" href=${`${BASE}/${c.id}/results?format=csv`} download>Results (CSV)</a>
        <button type="button" class="secondary" onClick=${() => remove(c)}>Delete</button>
      </div>
      <section aria-labelledby="progress-h" class="card">
        <h2 id="progress-h">Progress</h2>
        <${Progress} summary=${s} label="Numbers finished" />
        <dl class="stats" aria-live="off">
          <div><dt>Numbers</dt><dd data-testid="total">${s.total.toLocaleString()}</dd></div>
          <div><dt>Done</dt><dd data-testid="done">${s.done.toLocaleString()}</dd></div>
          <div><dt>Waiting</dt><dd>${(s.pending + s.claimed).toLocaleString()}</dd></div>
          <div><dt>On the line now</dt><dd>${s.inFlight.toLocaleString()}</dd></div>
          ${s.cancelled ? html`<div><dt>Cancelled</dt><dd>${s.cancelled.toLocaleString()}</dd></div>` : null}
          <div><dt>Answered</dt><dd>${s.answered.toLocaleString()} (${percent(s.answerRate)})</dd></div>
          ${s.abandonedLimit !== null && s.abandonedLimit !== undefined
            ? html`<div><dt>Abandoned calls (${s.abandonedWindow})</dt><dd>${s.abandoned} · ${percent(s.abandonedRate)} of at most ${percent(s.abandonedLimit)}</dd></div>` : null}
          <div><dt>Finishes in</dt><dd>${eta(s)}</dd></div>
        </dl>
        ${Object.keys(s.outcomes || {}).length ? html`<p class="hint">Last outcomes: ${Object.entries(s.outcomes)
          .filter(([, n]) => n).map(([name, n]) => `${name} ${n.toLocaleString()}`).join(' · ') || 'none yet'}</p>` : null}
      </section>
      <${Charts} id=${c.id} agent=${c.type === 'agent'} summary=${s} />
      <section aria-labelledby="window-h" class="card">
        <h2 id="window-h">Schedule</h2>
        <dl class="details">
          <dt>Type</dt><dd>${c.type === 'agent' ? 'Agent campaign' : 'IVR campaign'}</dd>
          <dt>Code (Dialer API)</dt><dd><code>${c.code}</code></dd>
          <dt>First day</dt><dd>${c.startDate}, ${c.startTime}–${c.finishTime}</dd>
          <dt>Runover days</dt><dd>${c.runoverDays.length
            ? html`<ul>${c.runoverDays.map((d) => html`<li>${d.date}, ${d.startTime}–${d.finishTime}</li>`)}</ul>`
            : 'None'}</dd>
          <dt>Attempts</dt><dd>${c.attempts.length} (retry after ${c.attempts.slice(0, -1).map((a) => `${a.interval} min`).join(', ') || '—'})</dd>
        </dl>
      </section>
      <${NumbersTable} id=${c.id} tick=${numbersTick} />
      <${Upload} id=${c.id} onAdded=${() => setNumbersTick((t) => t + 1)} />`;
  }}<//></div>`;
}
