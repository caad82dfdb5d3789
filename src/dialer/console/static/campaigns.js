// Campaigns: the list, one campaign, and the create / edit form, on the REST API of today
// (GET/POST/PUT/DELETE /api/campaign/voice). Live summaries, charts, the numbers page and CSV
// upload come with their endpoints (docs/console.md, "Next").
import { html, useState } from './vendor/preact-htm.js';
import { ApiError, del, get, post, put } from './api.js';
import { Empty, Field, Loading, Notice, fieldErrors, useLoad } from './ui.js';

const BASE = '/api/campaign/voice';
const POLICIES = [[0, 'Never'], [1, 'On the first call'], [2, 'On the last call']];

export function CampaignList() {
  const [state] = useLoad(() => get(BASE), []);
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  return html`<div class="page">
    <div class="page-head">
      <h1>Campaigns</h1>
      <a class="button" href="#/campaigns/new">New campaign</a>
    </div>
    <form class="filters" role="search" aria-label="Filter campaigns" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="f-q">Name or code</label>
        <input id="f-q" type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} /></div>
      <div class="field"><label for="f-status">Status</label>
        <select id="f-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">Any</option><option>Enabled</option><option>Disabled</option>
        </select></div>
      <div class="field"><label for="f-type">Type</label>
        <select id="f-type" value=${type} onChange=${(e) => setType(e.target.value)}>
          <option value="">Any</option><option value="ivr">IVR</option><option value="agent">Agent</option>
        </select></div>
    </form>
    <${Loading} state=${state}>${(campaigns) => {
      if (!campaigns.length) {
        return html`<${Empty} title="No campaigns yet">Create one with <a href="#/campaigns/new">New campaign</a>, or POST it to ${BASE}.<//>`;
      }
      const q = query.trim().toLowerCase();
      const shown = campaigns.filter((c) => (!status || c.status === status) && (!type || c.type === type)
        && (!q || (c.name || '').toLowerCase().includes(q) || c.code.toLowerCase().includes(q)));
      if (!shown.length) return html`<${Empty} title="No campaign matches">Clear the filters to see all ${campaigns.length}.<//>`;
      return html`<table class="list">
        <caption class="visually-hidden">Campaigns</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Type</th>
          <th scope="col">Starts</th><th scope="col">Window</th><th scope="col" class="num">Numbers</th></tr></thead>
        <tbody>${shown.map((c) => html`<tr>
          <td><a href=${`#/campaigns/${c.id}`}>${c.name || `Campaign ${c.id}`}</a></td>
          <td><span class=${`badge ${c.status.toLowerCase()}`}>${c.status}</span></td>
          <td>${c.type === 'agent' ? 'Agent' : 'IVR'}</td>
          <td>${c.startDate}</td>
          <td>${c.startTime}–${c.finishTime}${c.runoverDays.length ? ` (+${c.runoverDays.length} days)` : ''}</td>
          <td class="num">${c.phoneNumberCount.toLocaleString()}</td>
        </tr>`)}</tbody>
      </table>`;
    }}<//>
  </div>`;
}

async function allNumbers(id) {
  // A PUT replaces the numbers, so one that changes the rest sends them back as they are.
  const numbers = [];
  let after = null;
  do {
    const page = await get(`${BASE}/${id}?numbersLimit=10000${after === null ? '' : `&numbersAfter=${after}`}`);
    for (const n of page.phoneNumbers) {
      const kept = { number: n.number };
      if (n.name) kept.name = n.name;
      if (n.parameters) kept.parameters = n.parameters;
      numbers.push(kept);
    }
    after = page.phoneNumbersNext;
  } while (after !== null && after !== undefined);
  return numbers;
}

function settingsOf(c) {
  const body = {
    name: c.name, type: c.type, status: c.status, startDate: c.startDate, startTime: c.startTime,
    finishTime: c.finishTime, runoverDays: c.runoverDays, callflow_Id: c.callflow_Id, cli_Id: c.cli_Id,
    attempts: c.attempts, answerMachineDetected: c.answerMachineDetected, smsOnBusy: c.smsOnBusy,
  };
  if (c.type === 'agent') body.agentOptions = c.agentOptions;
  return body;
}

export function CampaignPage({ id }) {
  const [state, reload] = useLoad(() => get(`${BASE}/${encodeURIComponent(id)}?numbersLimit=20`), [id]);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  async function setStatus(c, status) {
    setBusy(true);
    setNotice(null);
    try {
      await put(`${BASE}/${c.id}`, { ...settingsOf(c), status, phoneNumbers: await allNumbers(c.id) });
      setNotice({ kind: 'ok', text: status === 'Enabled' ? 'The campaign is dialling.' : 'The campaign is paused: no new calls start.' });
      reload();
    } catch (error) {
      setNotice({ kind: 'error', text: error.message });
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
  return html`<div class="page"><${Loading} state=${state}>${(c) => {
    const p = c.progress || { pending: 0, inFlight: 0, claimed: 0, done: 0, cancelled: 0, outcomes: {} };
    const total = p.pending + p.claimed + p.done + p.cancelled;
    const finished = p.done + p.cancelled;
    return html`
      <div class="page-head">
        <h1>${c.name || `Campaign ${c.id}`}</h1>
        <span class=${`badge ${c.status.toLowerCase()}`}>${c.status}</span>
      </div>
      <${Notice} notice=${notice} />
      <div class="actions">
        ${c.status === 'Enabled'
          ? html`<button type="button" disabled=${busy} onClick=${() => setStatus(c, 'Disabled')}>Pause</button>`
          : html`<button type="button" disabled=${busy} onClick=${() => setStatus(c, 'Enabled')}>Resume</button>`}
        <a class="button secondary" href=${`#/campaigns/${c.id}/edit`}>Edit</a>
        <a class="button secondary" href=${`${BASE}/${c.id}/results?format=csv`} download>Results (CSV)</a>
        <button type="button" class="danger" onClick=${() => remove(c)}>Delete</button>
      </div>
      <section aria-labelledby="progress-h" class="card">
        <h2 id="progress-h">Progress</h2>
        <div class="progress" role="progressbar" aria-label="Numbers finished" aria-valuemin="0"
          aria-valuemax=${total} aria-valuenow=${finished}>
          <span style=${{ width: `${total ? (100 * finished) / total : 0}%` }}></span>
        </div>
        <dl class="stats">
          <div><dt>Numbers</dt><dd>${total.toLocaleString()}</dd></div>
          <div><dt>Done</dt><dd>${p.done.toLocaleString()}</dd></div>
          <div><dt>Waiting</dt><dd>${p.pending.toLocaleString()}</dd></div>
          <div><dt>On the line now</dt><dd>${p.inFlight.toLocaleString()}</dd></div>
          <div><dt>Answered</dt><dd>${(p.outcomes.Answered || 0).toLocaleString()}</dd></div>
          ${c.abandonment ? html`<div><dt>Abandoned-call rate</dt><dd>${c.abandonment.rate ?? '—'}% (limit ${c.abandonment.limit ?? '—'}%)</dd></div>` : null}
        </dl>
        <p class="hint">Live counters and charts arrive with the campaign summary endpoint; reload for the latest figures.</p>
      </section>
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
      <section aria-labelledby="numbers-h" class="card">
        <h2 id="numbers-h">First numbers</h2>
        ${c.phoneNumbers.length ? html`<table class="list">
          <thead><tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col">Attempts</th><th scope="col">Last outcome</th></tr></thead>
          <tbody>${c.phoneNumbers.map((n) => html`<tr><td>${n.e164 || n.number}</td><td>${n.name || ''}</td>
            <td>${n.attemptsMade}</td><td>${n.lastOutcomeName || '—'}</td></tr>`)}</tbody>
        </table>` : html`<p>No numbers.</p>`}
      </section>`;
  }}<//></div>`;
}

function parseNumbers(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [number, ...rest] = line.split(',');
    const entry = { number: number.trim() };
    const name = rest.join(',').trim();
    if (name) entry.name = name;
    return entry;
  });
}

function parseRunover(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [date, startTime, finishTime] = line.split(/\s+/);
    return { date, startTime, finishTime };
  });
}

const BLANK = {
  name: '', type: 'ivr', status: 'Enabled', startDate: '', startTime: '09:00', finishTime: '17:00',
  runover: '', callflow_Id: '', cli_Id: '', attemptCount: 3, interval: 60,
  answerMachineDetected: 0, smsOnBusy: 0, numbers: '',
};

export function CampaignForm({ id }) {
  const editing = id !== undefined;
  const [state] = useLoad(async () => {
    const [flows, clis] = await Promise.all([get('/api/callflows'), get('/api/clis')]);
    let campaign = null;
    if (editing) campaign = await get(`${BASE}/${encodeURIComponent(id)}?numbersLimit=1`);
    return { flows, clis, campaign };
  }, [id]);
  return html`<div class="page">
    <h1>${editing ? 'Edit campaign' : 'New campaign'}</h1>
    <${Loading} state=${state}>${(data) => html`<${CampaignFields} data=${data} id=${id} />`}<//>
  </div>`;
}

function CampaignFields({ data, id }) {
  const c = data.campaign;
  const [form, setForm] = useState(c ? {
    ...BLANK, ...settingsOf(c),
    runover: c.runoverDays.map((d) => `${d.date} ${d.startTime} ${d.finishTime}`).join('\n'),
    attemptCount: c.attempts.length, interval: c.attempts.length ? c.attempts[0].interval : 60,
  } : { ...BLANK, callflow_Id: data.flows[0]?.id ?? '', cli_Id: data.clis[0]?.id ?? '' });
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setNotice(null);
    const count = Math.max(1, parseInt(form.attemptCount, 10) || 1);
    const body = {
      name: form.name, type: form.type, status: form.status, startDate: form.startDate,
      startTime: form.startTime, finishTime: form.finishTime, runoverDays: parseRunover(form.runover),
      callflow_Id: form.callflow_Id === '' ? null : Number(form.callflow_Id),
      cli_Id: form.cli_Id === '' ? null : Number(form.cli_Id),
      attempts: Array.from({ length: count }, (_, i) => ({ interval: Number(form.interval), attemptNumber: i + 1 })),
      answerMachineDetected: Number(form.answerMachineDetected), smsOnBusy: Number(form.smsOnBusy),
    };
    if (c && c.type === 'agent') body.agentOptions = c.agentOptions;
    try {
      if (c) {
        body.phoneNumbers = await allNumbers(c.id);
        await put(`${BASE}/${c.id}`, body);
        location.hash = `#/campaigns/${c.id}`;
      } else {
        body.phoneNumbers = parseNumbers(form.numbers);
        const made = await post(BASE, body);
        location.hash = `#/campaigns/${made.id}`;
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        setErrors(error.errors);
        setNotice({ kind: 'error', text: 'The campaign was not saved: correct the fields marked below.' });
      } else {
        setNotice({ kind: 'error', text: error.message });
      }
    } finally {
      setBusy(false);
    }
  }
  const shown = ['name', 'type', 'status', 'startdate', 'starttime', 'finishtime', 'runoverdays',
    'callflow_id', 'cli_id', 'attempts', 'answermachinedetected', 'answerphonemessage', 'smsonbusy', 'phonenumbers'];
  const other = Object.entries(errors).filter(([path]) => !shown.some((s) => path.toLowerCase().startsWith(s)));
  const input = (name, type = 'text') => (attrs) => html`<input ...${attrs} name=${name} type=${type} value=${form[name]} onInput=${set(name)} />`;
  return html`<form class="card form" onSubmit=${submit} novalidate>
    <${Notice} notice=${notice} />
    ${other.length ? html`<ul class="field-error">${other.map(([p, ms]) => ms.map((m) => html`<li>${p}: ${m}</li>`))}</ul>` : null}
    <${Field} id="c-name" label="Name" errors=${fieldErrors(errors, 'Name')}>${input('name')}<//>
    <div class="row">
      <${Field} id="c-type" label="Type" errors=${fieldErrors(errors, 'Type')}>${(a) => html`<select ...${a} value=${form.type} onChange=${set('type')}>
        <option value="ivr">IVR (plays the call flow)</option><option value="agent">Agent (answered calls go to agents)</option></select>`}<//>
      <${Field} id="c-status" label="Status" errors=${fieldErrors(errors, 'Status')}>${(a) => html`<select ...${a} value=${form.status} onChange=${set('status')}>
        <option value="Enabled">Enabled (dials in its windows)</option><option value="Disabled">Disabled (paused)</option></select>`}<//>
    </div>
    <div class="row">
      <${Field} id="c-date" label="First day" errors=${fieldErrors(errors, 'StartDate')}>${input('startDate', 'date')}<//>
      <${Field} id="c-start" label="From" errors=${fieldErrors(errors, 'StartTime')}>${input('startTime', 'time')}<//>
      <${Field} id="c-finish" label="Until" errors=${fieldErrors(errors, 'FinishTime')}>${input('finishTime', 'time')}<//>
    </div>
    <${Field} id="c-runover" label="Runover days" hint="One a line: date, from, until (2025-10-02 09:00 12:00). Times are in the tenant's time zone."
      errors=${fieldErrors(errors, 'RunoverDays')}>${(a) => html`<textarea ...${a} rows="2" value=${form.runover} onInput=${set('runover')}></textarea>`}<//>
    <div class="row">
      <${Field} id="c-flow" label="Call flow" errors=${fieldErrors(errors, 'CallFlow_Id', 'CallflowId')}>${(a) => html`<select ...${a} value=${form.callflow_Id} onChange=${set('callflow_Id')}>
        <option value="">Choose…</option>${data.flows.map((f) => html`<option value=${f.id}>${f.name}</option>`)}</select>`}<//>
      <${Field} id="c-cli" label="Caller ID" errors=${fieldErrors(errors, 'Cli_Id', 'CliId')}>${(a) => html`<select ...${a} value=${form.cli_Id} onChange=${set('cli_Id')}>
        <option value="">Choose…</option>${data.clis.map((x) => html`<option value=${x.id}>${x.number}</option>`)}</select>`}<//>
    </div>
    <div class="row">
      <${Field} id="c-attempts" label="Attempts per number" errors=${fieldErrors(errors, 'Attempts')}>${input('attemptCount', 'number')}<//>
      <${Field} id="c-interval" label="Minutes between attempts">${input('interval', 'number')}<//>
      <${Field} id="c-amd" label="Answerphone message" errors=${fieldErrors(errors, 'AnswerMachineDetected', 'AnswerPhoneMessage')}>${(a) => html`<select ...${a} value=${form.answerMachineDetected} onChange=${set('answerMachineDetected')}>
        ${POLICIES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select>`}<//>
      <${Field} id="c-sms" label="SMS on busy" errors=${fieldErrors(errors, 'SmsOnBusy')}>${(a) => html`<select ...${a} value=${form.smsOnBusy} onChange=${set('smsOnBusy')}>
        ${POLICIES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select>`}<//>
    </div>
    ${c ? html`<p class="hint">The numbers stay as they are; adding numbers by CSV upload comes with its endpoint.</p>`
      : html`<${Field} id="c-numbers" label="Phone numbers" hint="One a line: number, then optionally a comma and the person's name."
          errors=${fieldErrors(errors, 'PhoneNumbers')}>${(a) => html`<textarea ...${a} rows="6" value=${form.numbers} onInput=${set('numbers')}></textarea>`}<//>`}
    <div class="actions">
      <button type="submit" disabled=${busy}>${c ? 'Save changes' : 'Create campaign'}</button>
      <a class="button secondary" href=${c ? `#/campaigns/${c.id}` : '#/campaigns'}>Cancel</a>
    </div>
  </form>`;
}
