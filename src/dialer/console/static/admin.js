// The tenant's lists and settings: do-not-call (/api/dnc), the webhook (/api/webhook) and its
// delivery log, the abandoned-call settings (/api/settings/compliance), the calling hours
// (/api/settings/calling-hours), and the API key.
import { html, useState } from './vendor/preact-htm.js';
import { ApiError, del, get, post, put } from './api.js';
import { Empty, Field, Loading, Notice, fieldErrors, useLoad, when } from './ui.js';

function lines(text) {
  return text.split(/[\n,;]/).map((s) => s.trim()).filter(Boolean);
}

export function DncPage() {
  const [after, setAfter] = useState(null);
  const [state, reload] = useLoad(() => get(`/api/dnc?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`), [after]);
  const [check, setCheck] = useState('');
  const [checked, setChecked] = useState(null);
  const [change, setChange] = useState('');
  const [notice, setNotice] = useState(null);
  const [errors, setErrors] = useState({});
  async function lookUp(event) {
    event.preventDefault();
    setChecked(null);
    try { setChecked(await get(`/api/dnc?number=${encodeURIComponent(check.trim())}`)); }
    catch (error) { setNotice({ kind: 'error', text: error.message }); }
  }
  async function apply(kind) {
    setNotice(null);
    setErrors({});
    try {
      const numbers = lines(change);
      const answer = kind === 'add' ? await post('/api/dnc', { numbers }) : await del('/api/dnc', { numbers });
      setNotice({ kind: 'ok', text: kind === 'add'
        ? `${answer.added} added, ${answer.alreadyListed} already listed.`
        : `${answer.removed} removed, ${answer.notListed} were not listed.` });
      setChange('');
      reload();
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    }
  }
  return html`<div class="page">
    <h1>Do not call</h1>
    <div class="columns">
      <form class="card" onSubmit=${lookUp} role="search" aria-label="Check a number">
        <h2>Check a number</h2>
        <${Field} id="dnc-check" label="Number">${(a) => html`<input ...${a} value=${check} onInput=${(e) => setCheck(e.target.value)} />`}<//>
        <button type="submit">Check</button>
        ${checked ? html`<p role="status">${checked.number || check}: ${checked.listed ? 'on the list' : 'not on the list'}</p>` : null}
      </form>
      <form class="card" onSubmit=${(e) => { e.preventDefault(); apply('add'); }}>
        <h2>Add or remove</h2>
        <${Field} id="dnc-change" label="Numbers" hint="One a line (or comma-separated); paste a whole column to import it."
          errors=${fieldErrors(errors, 'numbers')}>${(a) => html`<textarea ...${a} rows="5" value=${change} onInput=${(e) => setChange(e.target.value)}></textarea>`}<//>
        <${Notice} notice=${notice} />
        <div class="actions"><button type="submit">Add</button>
          <button type="button" class="secondary" onClick=${() => apply('remove')}>Remove</button></div>
      </form>
    </div>
    <section class="card" aria-labelledby="dnc-list-h">
      <h2 id="dnc-list-h">Listed numbers</h2>
      <${Loading} state=${state}>${(page) => page.numbers.length ? html`
        <ul class="plain">${page.numbers.map((n) => html`<li>${n}</li>`)}</ul>
        <div class="actions">
          ${after ? html`<button type="button" class="secondary" onClick=${() => setAfter(null)}>First page</button>` : null}
          ${page.next ? html`<button type="button" class="secondary" onClick=${() => setAfter(page.next)}>Next page</button>` : null}
        </div>` : html`<${Empty} title="The list is empty">Numbers added here are never called.<//>`}<//>
    </section>
  </div>`;
}

// What POST /api/webhook/test answered: delivered or not, the receiver's status, the time taken.
function TestResult({ test }) {
  if (!test) return null;
  if (test.failed) return html`<p class="error test-result" role="alert">The test could not be sent: ${test.failed}</p>`;
  const took = `${Math.round(test.seconds * 1000)} ms`;
  return html`<p class=${(test.delivered ? 'ok' : 'error') + ' test-result'} role=${test.delivered ? 'status' : 'alert'}>
    Test delivery ${test.delivered ? 'delivered' : 'failed'}: status ${test.status === null ? 'none' : test.status}, ${took}${test.error ? `, ${test.error}` : ''}.</p>`;
}

export function WebhooksPage() {
  const [hook, reloadHook] = useLoad(() => get('/api/webhook').catch((e) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }), []);
  const [log, reloadLog] = useLoad(() => get('/api/webhook/deliveries?limit=50'), []);
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState(null);
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  async function register(event) {
    event.preventDefault();
    setErrors({});
    setNotice(null);
    try {
      const made = await put('/api/webhook', { url: url.trim() });
      setSecret(made.secret);
      reloadHook();
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    }
  }
  const [test, setTest] = useState(null);
  const [testing, setTesting] = useState(false);
  async function sendTest() {
    setTest(null);
    setTesting(true);
    try {
      setTest(await post('/api/webhook/test'));
      reloadHook();
    } catch (error) { setTest({ failed: error.message }); }
    finally { setTesting(false); }
  }
  async function retry() {
    try {
      const answer = await post('/api/webhook/retry');
      setNotice({ kind: 'ok', text: `${answer.retried} deliveries will be tried again.` });
      // The given-up count (and the button offering their retry) is the webhook's, read again.
      reloadHook();
      reloadLog();
    } catch (error) { setNotice({ kind: 'error', text: error.message }); }
  }
  return html`<div class="page">
    <h1>Webhook</h1>
    <${Notice} notice=${notice} />
    <section class="card" aria-labelledby="hook-h">
      <h2 id="hook-h">Where results go</h2>
      <${Loading} state=${hook}>${(h) => h ? html`<dl class="details"><dt>URL</dt><dd>${h.url}</dd>
        <dt>Registered</dt><dd>${when(h.createdAt)}</dd><dt>Waiting</dt><dd>${h.backlog}</dd><dt>Given up</dt><dd>${h.failed}</dd></dl>
        <div class="actions"><button type="button" onClick=${sendTest} disabled=${testing}>Send a test delivery</button>
        ${h.failed ? html`<button type="button" onClick=${retry}>Retry the ${h.failed} given up</button>` : null}</div>
        <${TestResult} test=${test} />`
        : html`<p>No webhook: results are only in the API.</p>`}<//>
      <form onSubmit=${register}>
        <${Field} id="hook-url" label="Register a URL" errors=${fieldErrors(errors, 'url')}>${(a) => html`<input ...${a} type="url" value=${url} onInput=${(e) => setUrl(e.target.value)} />`}<//>
        <button type="submit">Register</button>
      </form>
      ${secret ? html`<p role="status">The signing secret, shown once: <code>${secret}</code></p>` : null}
    </section>
    <section class="card" aria-labelledby="log-h">
      <h2 id="log-h">Deliveries</h2>
      <${Loading} state=${log}>${(page) => page.deliveries.length ? html`<table class="list">
        <thead><tr><th scope="col">Created</th><th scope="col">Status</th><th scope="col" class="num">Tries</th><th scope="col">Last error</th><th scope="col">Next try</th></tr></thead>
        <tbody>${page.deliveries.map((d) => html`<tr><td>${when(d.createdAt)}</td><td>${d.status}</td><td class="num">${d.tries}</td>
          <td>${d.lastError || '—'}</td><td>${when(d.nextTryAt)}</td></tr>`)}</tbody></table>`
        : html`<${Empty} title="No deliveries yet">Each finished call attempt is delivered here once a webhook is registered.<//>`}<//>
    </section>
  </div>`;
}

function CallingHours() {
  const [state, reload] = useLoad(() => get('/api/settings/calling-hours'), []);
  const [notice, setNotice] = useState(null);
  const [errors, setErrors] = useState({});
  async function save(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    setErrors({});
    setNotice(null);
    try {
      await put('/api/settings/calling-hours', { start: form.get('start'), end: form.get('end') });
      setNotice({ kind: 'ok', text: 'Calling hours saved.' });
      reload();
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    }
  }
  return html`<${Loading} state=${state}>${(h) => html`<form class="card" aria-labelledby="hours-h" onSubmit=${save}>
    <h2 id="hours-h">Calling hours</h2>
    <${Notice} notice=${notice} />
    <p class="hint">No callee is rung outside these, in the callee's own time zone.</p>
    <div class="row">
      <${Field} id="s-hours-start" label="From" errors=${fieldErrors(errors, 'start')}>${(a) => html`<input ...${a} name="start" type="text" inputmode="numeric" placeholder="08:00" value=${h.start} />`}<//>
      <${Field} id="s-hours-end" label="Until" errors=${fieldErrors(errors, 'end')}>${(a) => html`<input ...${a} name="end" type="text" inputmode="numeric" placeholder="21:00" value=${h.end} />`}<//>
    </div>
    <button type="submit">Save the hours</button>
  </form>`}<//>`;
}

export function SettingsPage() {
  const [state, reload] = useLoad(() => get('/api/settings/compliance'), []);
  const [notice, setNotice] = useState(null);
  const [errors, setErrors] = useState({});
  const [newKey, setNewKey] = useState(null);
  async function save(event, current) {
    event.preventDefault();
    const form = new FormData(event.target);
    setErrors({});
    setNotice(null);
    const text = String(form.get('message') || '').trim();
    try {
      await put('/api/settings/compliance', {
        regime: form.get('regime'),
        target: Number(form.get('target')),
        message: text ? { text } : (current.message ? null : undefined),
      });
      setNotice({ kind: 'ok', text: 'Saved.' });
      reload();
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    }
  }
  async function rotate() {
    if (!window.confirm('Make a new API key? The old one stops working at once, and this console session ends.')) return;
    try {
      const answer = await post('/api/tenant/api-key');
      setNewKey(answer.api_key);
    } catch (error) { setNotice({ kind: 'error', text: error.message }); }
  }
  return html`<div class="page">
    <h1>Settings</h1>
    <${Notice} notice=${notice} />
    <${Loading} state=${state}>${(s) => html`<form class="card" onSubmit=${(e) => save(e, s)}>
      <h2>Abandoned calls</h2>
      <div class="row">
        <${Field} id="s-regime" label="Regime" errors=${fieldErrors(errors, 'regime')}>${(a) => html`<select ...${a} name="regime" value=${s.regime}>
          <option value="uk">UK (Ofcom)</option><option value="us">US (FTC)</option><option value="none">None</option></select>`}<//>
        <${Field} id="s-target" label="Target (% of live calls)" errors=${fieldErrors(errors, 'target')}>${(a) => html`<input ...${a} name="target" type="number" step="0.1" value=${s.target} />`}<//>
      </div>
      <${Field} id="s-message" label="Information message" hint="What an abandoned call hears (spoken by espeak-ng)." errors=${fieldErrors(errors, 'message')}>${(a) => html`<textarea ...${a} name="message" rows="2" value=${s.message && s.message.text ? s.message.text : ''}></textarea>`}<//>
      <p class="hint">${s.rules.enforced ? `Enforced: at most ${s.rules.limit}% over ${s.rules.window}.` : 'No abandoned-call rule is enforced.'}</p>
      <button type="submit">Save</button>
    </form>`}<//>
    <${CallingHours} />
    <section class="card" aria-labelledby="key-h">
      <h2 id="key-h">API key</h2>
      <p>Rotating makes a new key and retires the old one at once, with every console session it opened.</p>
      <button type="button" class="danger" onClick=${rotate}>Rotate the API key</button>
      ${newKey ? html`<p role="status">The new key, shown once: <code>${newKey}</code>. Log in with it again.</p>` : null}
    </section>
  </div>`;
}
