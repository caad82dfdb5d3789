// The campaign create / edit form (POST / PUT /api/campaign/voice). The list is
// campaign_list.js, one campaign campaign_page.js.
import { html, useState } from './vendor/preact-htm.js';
import { ApiError, get, post, put } from './api.js';
import { Field, Loading, Notice, fieldErrors, useLoad } from './ui.js';

const BASE = '/api/campaign/voice';
const POLICIES = [[0, 'Never'], [1, 'On the first call'], [2, 'On the last call']];

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
    ${c ? html`<p class="hint">The numbers stay as they are; add more from a CSV file on the campaign's page.</p>`
      : html`<${Field} id="c-numbers" label="Phone numbers" hint="One a line: number, then optionally a comma and the person's name."
          errors=${fieldErrors(errors, 'PhoneNumbers')}>${(a) => html`<textarea ...${a} rows="6" value=${form.numbers} onInput=${set('numbers')}></textarea>`}<//>`}
    <div class="actions">
      <button type="submit" disabled=${busy}>${c ? 'Save changes' : 'Create campaign'}</button>
      <a class="button secondary" href=${c ? `#/campaigns/${c.id}` : '#/campaigns'}>Cancel</a>
    </div>
  </form>`;
}
