// Call flows: the tenant's flows (GET /api/callflows), adding one (POST /api/callflows, its
// problems shown by node path beside the JSON), and the dry run (POST .../{id}/dry-run): the
// steps a callee would hear for a keypress sequence and a sample number, each spoken step
// playable in the page from the WAV URL the API answers (fetched with the session cookie).
import { html, useState } from './vendor/preact-htm.js';
import { ApiError, get, post } from './api.js';
import { Empty, Field, Loading, Notice, useLoad } from './ui.js';

const EXAMPLE = `{
  "version": 2,
  "sms": "Hi {Name}, about your appointment on {Parameter1}.",
  "answerphone": "Hello {Name}, please call us back.",
  "nodes": {
    "greet": {"say": "Hello {Name}. Your appointment is on {Parameter1}.", "next": "menu"},
    "menu": {"gather": {"prompt": "Press 1 to confirm.", "timeout": 5},
             "branches": {"1": "thanks"}, "default": "bye"},
    "thanks": {"say": "Thank you {Name}.", "next": "bye"},
    "bye": {"hangup": true}
  }
}`;

// Every problem of a 400 as [path, message], in the order the API gave them.
function problems(errors) {
  const found = [];
  for (const [path, messages] of Object.entries(errors || {})) {
    for (const m of messages) found.push([path, m]);
  }
  return found;
}

function UploadForm({ onAdded }) {
  const [name, setName] = useState('');
  const [text, setText] = useState(EXAMPLE);
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setErrors({});
    setNotice(null);
    // JSON is sent as an object; anything else goes as text, which the API reads as YAML.
    let definition = text;
    try { definition = JSON.parse(text); } catch (_) { /* YAML: the API reports its problems */ }
    setBusy(true);
    try {
      const made = await post('/api/callflows', { name: name.trim(), definition });
      setNotice({ kind: 'ok', text: `Added call flow ${made.id}, "${made.name}".` });
      onAdded(made);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    } finally {
      setBusy(false);
    }
  }
  const found = problems(errors).filter(([path]) => path !== 'name');
  return html`<form class="card" onSubmit=${submit} aria-labelledby="flow-up-h">
    <h2 id="flow-up-h">Add a call flow</h2>
    <${Field} id="flow-name" label="Name" errors=${(errors.name || [])}>${(a) => html`<input ...${a} required maxlength="200" value=${name} onInput=${(e) => setName(e.target.value)} />`}<//>
    <div class="columns flow-edit">
      <${Field} id="flow-text" label="The flow (JSON or YAML)" hint="Placeholders: {Name}, {Parameter1}…{Parameter9}, {CustomData.key}. See docs/callflows.md.">${(a) => html`<textarea ...${a}
        aria-describedby=${[a['aria-describedby'], found.length ? 'flow-problems' : null].filter(Boolean).join(' ')}
        aria-invalid=${found.length ? 'true' : undefined}
        class="code" rows="16" spellcheck="false" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>`}<//>
      <div>
        <h3>Problems</h3>
        ${found.length ? html`<ul class="field-error flow-problems" id="flow-problems">${found.map(([path, m]) => html`<li><code>${path}</code>: ${m}</li>`)}</ul>`
          : html`<p class="hint">None found yet: every problem is listed here, by node path, when you add the flow.</p>`}
      </div>
    </div>
    <${Notice} notice=${notice} />
    <button type="submit" disabled=${busy}>Add the call flow</button>
  </form>`;
}

function parameterList(text) {
  return text.split(/\n/).map((line, i) => line.trim() ? { parameter: i + 1, value: line.trim() } : null)
    .filter(Boolean);
}

function DryRun({ flows, chosen, setChosen }) {
  const [keys, setKeys] = useState('');
  const [name, setName] = useState('');
  const [params, setParams] = useState('');
  const [transfer, setTransfer] = useState(true);
  const [run, setRun] = useState(null);
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setErrors({});
    setNotice(null);
    setRun(null);
    setBusy(true);
    try {
      const body = {
        keys: keys.replace(/\s+/g, ''),
        number: { name, parameters: parameterList(params) },
        transferAnswers: transfer,
      };
      setRun(await post(`/api/callflows/${chosen}/dry-run`, body));
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    } finally {
      setBusy(false);
    }
  }
  const keyErrors = problems(errors).filter(([p]) => p.startsWith('keys')).map(([p, m]) => `${p}: ${m}`);
  const numberErrors = problems(errors).filter(([p]) => p.startsWith('number')).map(([p, m]) => `${p}: ${m}`);
  return html`<section class="card" aria-labelledby="dry-h">
    <h2 id="dry-h">Dry run</h2>
    <p class="hint">Walks the flow as a call would for someone who answers and presses these keys; no call is made.</p>
    <form onSubmit=${submit}>
      <div class="row">
        <${Field} id="dry-flow" label="Call flow">${(a) => html`<select ...${a} value=${chosen} onChange=${(e) => setChosen(e.target.value)}>
          ${flows.map((f) => html`<option value=${String(f.id)}>${f.id}: ${f.name}</option>`)}</select>`}<//>
        <${Field} id="dry-keys" label="Keys pressed" hint="One key per menu in turn (0-9, *, #); none left: the menu times out." errors=${keyErrors}>${(a) => html`<input ...${a} value=${keys} inputmode="tel" onInput=${(e) => setKeys(e.target.value)} />`}<//>
      </div>
      <div class="row">
        <${Field} id="dry-name" label="Sample name (Name)">${(a) => html`<input ...${a} value=${name} onInput=${(e) => setName(e.target.value)} />`}<//>
        <${Field} id="dry-params" label="Parameters, one a line (Parameter1, 2, …)" errors=${numberErrors}>${(a) => html`<textarea ...${a} rows="3" value=${params} onInput=${(e) => setParams(e.target.value)}></textarea>`}<//>
      </div>
      <label class="inline"><input type="checkbox" checked=${transfer} onChange=${(e) => setTransfer(e.target.checked)} /> transfers are answered</label>
      <${Notice} notice=${notice} />
      <div class="actions"><button type="submit" disabled=${busy || !chosen}>Run</button></div>
    </form>
    ${run ? html`<${DryRunSteps} run=${run} />` : null}
  </section>`;
}

function DryRunSteps({ run }) {
  return html`<div class="dry-run" aria-live="polite">
    <table class="list">
      <caption class="visually-hidden">Steps of the dry run</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Node</th><th scope="col">Kind</th><th scope="col">Said</th><th scope="col">Key</th><th scope="col">Listen</th></tr></thead>
      <tbody>${run.steps.map((s, i) => html`<tr class="dry-step">
        <td class="num">${i + 1}</td>
        <td><code>${s.node}</code></td>
        <td>${s.kind}${s.target ? html` <span class="hint">${s.target}</span>` : null}</td>
        <td class="dry-text">${s.text || ''}</td>
        <td>${s.kind === 'gather' ? (s.key === null || s.key === undefined || s.key === '' ? 'timed out' : s.key) : ''}</td>
        <td>${s.audio ? html`<audio controls preload="none" src=${s.audio} aria-label=${`Step ${i + 1}, ${s.node}`}></audio>`
          : (s.audioError ? html`<span class="hint">${s.audioError}</span>` : '')}</td>
      </tr>`)}</tbody>
    </table>
    <dl class="details dry-end">
      <dt>Ended</dt><dd>${run.ended}</dd>
      <dt>Stage recorded</dt><dd>${run.stage || '—'}</dd>
      <dt>Keys pressed</dt><dd>${run.keys || '—'}</dd>
      ${run.transferredTo ? html`<dt>Transferred to</dt><dd>${run.transferredTo}</dd>` : null}
      ${run.sms && run.sms.length ? html`<dt>SMS sent</dt><dd>${run.sms.join(' / ')}</dd>` : null}
      ${run.unusedKeys && run.unusedKeys.length ? html`<dt>Keys left over</dt><dd>${[].concat(run.unusedKeys).join(' ')}</dd>` : null}
    </dl>
  </div>`;
}

export function FlowsPage() {
  const [state, reload] = useLoad(() => get('/api/callflows'), []);
  const [chosen, setChosen] = useState('');
  const [shown, setShown] = useState(null);
  return html`<div class="page">
    <h1>Call flows</h1>
    <section class="card" aria-labelledby="flows-h">
      <h2 id="flows-h">This tenant's call flows</h2>
      <${Loading} state=${state}>${(flows) => flows.length ? html`<table class="list">
        <thead><tr><th scope="col" class="num">Id</th><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Nodes</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${flows.map((f) => html`<tr>
          <td class="num">${f.id}</td><td>${f.name}</td><td>${f.definition.version || 1}</td>
          <td>${f.definition.nodes ? Object.keys(f.definition.nodes).length : '—'}</td>
          <td><div class="actions">
            <button type="button" class="secondary" aria-label=${`Dry run of ${f.name}`} onClick=${() => { setChosen(String(f.id)); const k = document.getElementById('dry-keys'); if (k) k.focus(); }}>Dry run</button>
            <button type="button" class="secondary" aria-expanded=${shown === f.id} aria-label=${`${shown === f.id ? 'Hide' : 'Show'} JSON of ${f.name}`} onClick=${() => setShown(shown === f.id ? null : f.id)}>${shown === f.id ? 'Hide' : 'Show'} JSON</button>
          </div></td></tr>
          ${shown === f.id ? html`<tr><td colspan="5"><pre class="code">${JSON.stringify(f.definition, null, 2)}</pre></td></tr>` : null}`)}</tbody>
      </table>` : html`<${Empty} title="No call flows yet">Add one below, or with <code>dialer callflow create</code>.<//>`}<//>
    </section>
    <${Loading} state=${state}>${(flows) => flows.length ? html`<${DryRun} flows=${flows}
      chosen=${chosen || String(flows[0].id)} setChosen=${setChosen} />` : null}<//>
    <${UploadForm} onAdded=${(made) => { setChosen(String(made.id)); reload(); }} />
  </div>`;
}
