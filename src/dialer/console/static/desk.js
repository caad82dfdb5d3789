// The agent desk: the agent's state (GET /api/agents/me), kept current by the agent's event
// stream (/api/agents/me/events, Server-Sent Events; the session cookie goes with it), and the
// actions of docs/agents-desk.md.
import { html, useEffect, useState } from './vendor/preact-htm.js';
import { ApiError, get, post } from './api.js';
import { Field, Notice, duration, fieldErrors, when } from './ui.js';
import { useServerNow } from './clock.js';

const ME = '/api/agents/me';
const DISPOSITIONS = [
  ['CorrectCallee', 'Right person'], ['WrongCallee', 'Wrong person'], ['CallDeclined', 'Declined'],
  ['OptIn', 'Opted in'], ['OptOut', 'Opted out (do not call)'], ['TransferredToPaymentLine', 'To payment line'],
  ['CallerRequestedCallBack', 'Call back…'],
];

export function Desk() {
  const [me, setMe] = useState(null);
  const [notice, setNotice] = useState(null);
  const [streaming, setStreaming] = useState(false);
  // A refused action's errors by field (a callback time out of range shows under the picker).
  const [errors, setErrors] = useState({});
  useEffect(() => {
    let live = true;
    const refresh = () => get(ME).then((m) => live && setMe(m), (e) => live && setNotice({ kind: 'error', text: e.message }));
    refresh();
    const events = new EventSource(`${ME}/events`);
    events.addEventListener('open', () => setStreaming(true));
    events.addEventListener('error', () => setStreaming(false));
    events.addEventListener('state', refresh);
    events.addEventListener('revoked', () => { events.close(); location.reload(); });
    return () => { live = false; events.close(); };
  }, []);
  async function act(action, body) {
    setNotice(null);
    setErrors({});
    try {
      setMe(await post(`${ME}/${action}`, body));
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.errors);
      setNotice({ kind: 'error', text: error.message });
    }
  }
  return html`<div class="page desk">
    <div class="page-head"><h1>Agent desk</h1>
      <span class="hint" role="status">${streaming ? 'Live' : 'Connecting to live updates…'}</span></div>
    <${Notice} notice=${notice} />
    ${me === null ? html`<p class="loading" role="status">Loading…</p>` : html`<${DeskBody} me=${me} act=${act} errors=${errors} />`}
  </div>`;
}

function DeskBody({ me, act, errors }) {
  const [phone, setPhone] = useState('');
  const [reason, setReason] = useState('');
  const [callbackAt, setCallbackAt] = useState('');
  const [sameAgent, setSameAgent] = useState(false);
  const now = useServerNow(true);
  const inState = me.since ? Math.max(0, (now - new Date(me.since).getTime()) / 1000) : 0;
  const wrapLeft = me.wrapUpUntil ? Math.max(0, (new Date(me.wrapUpUntil).getTime() - now) / 1000) : null;
  const onCall = ['reserved', 'talking', 'wrap-up'].includes(me.state);
  function dispose(stage) {
    if (stage !== 'CallerRequestedCallBack') return act('disposition', { stage });
    const at = new Date(callbackAt);
    if (!callbackAt || Number.isNaN(at.getTime())) return act('disposition', { stage, callbackAt: null });
    return act('disposition', { stage, callbackAt: at.toISOString(), sameAgent });
  }
  return html`
    <section class="card state" aria-labelledby="state-h">
      <h2 id="state-h">My state</h2>
      <p class=${`state-now ${me.state}`} data-testid="agent-state"><strong>${me.state}</strong>
        ${me.reason ? html` (${me.reason})` : null}
        ${me.state !== 'offline' ? html` for ${duration(inState)}` : null}</p>
      ${me.pending ? html`<p>After this call: ${me.pending}${me.pendingReason ? ` (${me.pendingReason})` : ''}</p>` : null}
      ${wrapLeft !== null && me.state === 'wrap-up' ? html`<p role="timer" aria-live="off">Wrap-up ends in ${duration(wrapLeft)}</p>` : null}
      ${me.state === 'offline' ? html`<form class="row" onSubmit=${(e) => { e.preventDefault(); act('login', phone.trim() ? { phone: phone.trim() } : {}); }}>
          <${Field} id="d-phone" label="Phone to call me on" hint="Leave empty for the phone your manager assigned; or a SIP URI (sip:1001@…).">${(a) => html`<input ...${a} value=${phone} onInput=${(e) => setPhone(e.target.value)} />`}<//>
          <div class="actions"><button type="submit">Log in to take calls</button></div>
        </form>`
        : html`<div class="actions">
          <button type="button" onClick=${() => act('ready')} disabled=${me.state === 'ready'}>Ready</button>
          <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); act('pause', { reason: reason.trim() }); }}>
            <label for="d-reason">Pause reason</label>
            <input id="d-reason" value=${reason} onInput=${(e) => setReason(e.target.value)} maxlength="64" />
            <button type="submit" class="secondary">Pause</button>
          </form>
          <button type="button" class="secondary" onClick=${() => act('logout')}>Stop taking calls</button>
        </div>`}
    </section>
    ${onCall && me.customer ? html`<section class="card customer" aria-labelledby="cust-h">
      <h2 id="cust-h">Customer</h2>
      <dl class="details">
        <dt>Name</dt><dd data-testid="customer-name">${me.customer.name || '—'}</dd>
        <dt>Number</dt><dd>${me.customer.number}</dd>
        <dt>Campaign</dt><dd>${me.customer.campaignName || me.customer.campaignId}</dd>
        ${(me.customer.parameters || []).map((p) => html`<dt>Parameter ${p.parameter}</dt><dd>${p.value}</dd>`)}
        ${me.customer.customData ? html`<dt>Custom data</dt><dd><code>${JSON.stringify(me.customer.customData)}</code></dd>` : null}
        <dt>Keys pressed</dt><dd>${me.customer.keys || '—'}</dd>
        <dt>Answered</dt><dd>${when(me.customer.answeredAt)}</dd>
      </dl>
      <div class="actions">
        <button type="button" class="danger" onClick=${() => act('hangup')} disabled=${me.state !== 'talking'}>Hang up</button>
      </div>
      <fieldset class="dispositions">
        <legend>Disposition${me.disposition ? `: ${me.disposition.stageName || me.disposition.stage}` : ''}</legend>
        <div class="row">
          <${Field} id="d-callback" label="Call back at (your time)" errors=${fieldErrors(errors, 'callbackAt')}>${(a) => html`<input ...${a} type="datetime-local" value=${callbackAt} onInput=${(e) => setCallbackAt(e.target.value)} />`}<//>
          <label class="inline"><input type="checkbox" checked=${sameAgent} onChange=${(e) => setSameAgent(e.target.checked)} /> offer the callback to me first</label>
        </div>
        <div class="actions">${DISPOSITIONS.map(([stage, text]) => html`<button type="button" class="secondary" onClick=${() => dispose(stage)}>${text}</button>`)}</div>
      </fieldset>
    </section>` : html`<section class="card"><h2>Customer</h2><p>No call now. ${me.state === 'ready' ? 'The next customer appears here the moment they are connected.' : ''}</p></section>`}
  `;
}
