// A campaign's numbers from GET .../{id}/numbers: pages by number (the endpoint's `page`, so
// "page 500" is one request), a search (a number's start or part of a name), and filters by last
// outcome, last stage and final / pending. Refreshed when numbers are added (`tick`), and on
// the Refresh button: the page does not move under the reader's eyes while the engine dials.
import { html, useState } from './vendor/preact-htm.js';
import { get } from './api.js';
import { Loading, useLoad, when } from './ui.js';

const LIMIT = 25;
// The seed's names (domain/codes.py), in code order.
const OUTCOMES = ['Answered', 'Unobtainable', 'Busy', 'AnswerphoneMessageNotLeft', 'AnswerphoneMessageLeft', 'NoAnswer', 'Overflow', 'OutOfTime', 'Fax', 'Unknown', 'ExcludedNumber', 'NoConnection', 'InvalidNumber'];
const STAGES = ['None', 'CorrectCallee', 'WrongCallee', 'CallDeclined', 'CorrectColleeHungUp', 'WrongCalleeHungUp', 'CallCenterHungUp', 'CalleeTransferRequest', 'CalleeTransferAccepted', 'Excluded', 'Answered', 'AnswerphoneMessageNotLeft', 'AnswerphoneMessageLeft', 'OptIn', 'OptOut', 'WrongCalleeTransferRequested', 'CallTransferredToCallCentre', 'TransferredToPaymentLine', 'CallerRequestedCallBack', 'WrongCalleeTransferAccepted', 'CallDropped'];

export function NumbersTable({ id, tick }) {
  const [page, setPage] = useState(1);
  const [query, setQuery] = useState('');
  const [typed, setTyped] = useState('');
  const [outcome, setOutcome] = useState('');
  const [stage, setStage] = useState('');
  const [which, setWhich] = useState('');
  const params = new URLSearchParams({ limit: String(LIMIT), page: String(page) });
  if (query) params.set('q', query);
  if (outcome) params.set('outcome', outcome);
  if (stage) params.set('stage', stage);
  if (which) params.set('state', which);
  const [state, reload] = useLoad(() => get(`/api/campaign/voice/${id}/numbers?${params}`), [id, params.toString(), tick]);
  const filter = (set) => (event) => { set(event.target.value); setPage(1); };
  return html`<section aria-labelledby="numbers-h" class="card">
    <div class="section-head">
      <h2 id="numbers-h">Numbers</h2>
      <button type="button" class="secondary" onClick=${reload}>Refresh</button>
    </div>
    <form class="filters" role="search" aria-label="Search the numbers"
      onSubmit=${(e) => { e.preventDefault(); setQuery(typed.trim()); setPage(1); }}>
      <div class="field"><label for="n-q">Number or name</label>
        <input id="n-q" type="search" value=${typed} onInput=${(e) => setTyped(e.target.value)}
          aria-describedby="n-q-hint" />
        <p class="hint" id="n-q-hint">A number's start (07700 9…) or part of a name; Enter to search.</p></div>
      <button type="submit">Search</button>
      <div class="field"><label for="n-outcome">Last outcome</label>
        <select id="n-outcome" value=${outcome} onChange=${filter(setOutcome)}>
          <option value="">Any</option>${OUTCOMES.map((o) => html`<option value=${o}>${o}</option>`)}</select></div>
      <div class="field"><label for="n-stage">Last stage</label>
        <select id="n-stage" value=${stage} onChange=${filter(setStage)}>
          <option value="">Any</option>${STAGES.map((o) => html`<option value=${o}>${o}</option>`)}</select></div>
      <div class="field"><label for="n-state">Final or pending</label>
        <select id="n-state" value=${which} onChange=${filter(setWhich)}>
          <option value="">Any</option><option value="pending">Pending (waiting or on a call)</option>
          <option value="final">Final (done or cancelled)</option></select></div>
    </form>
    <${Loading} state=${state}>${(answer) => html`
      ${answer.numbers.length ? html`<table class="list numbers">
        <caption class="visually-hidden">Numbers, page ${page}</caption>
        <thead><tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col" class="num">Attempts</th>
          <th scope="col">Last outcome</th><th scope="col">Last stage</th><th scope="col">Next attempt</th></tr></thead>
        <tbody>${answer.numbers.map((n) => html`<tr>
          <td>${n.e164 || n.number}</td><td>${n.name || ''}</td><td class="num">${n.attemptsMade}</td>
          <td>${n.lastOutcomeName || '—'}</td><td>${n.lastStageName || '—'}</td>
          <td>${n.final ? 'Final' : n.nextAttemptAt ? when(n.nextAttemptAt) : 'On a call'}</td></tr>`)}</tbody>
      </table>` : html`<p>${page > 1 ? 'No numbers on this page.' : 'No numbers match.'}</p>`}
      <nav class="pager" aria-label="Pages of numbers">
        <button type="button" class="secondary" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous page</button>
        <form class="inline" onSubmit=${(e) => { e.preventDefault(); const v = parseInt(e.target.elements.page.value, 10); if (v >= 1) setPage(v); }}>
          <label for="n-page">Page</label>
          <input id="n-page" name="page" type="number" min="1" max="1000000" value=${page} size="6" />
          <button type="submit" class="secondary">Go</button>
        </form>
        <button type="button" class="secondary" disabled=${answer.next === null} onClick=${() => setPage(page + 1)}>Next page</button>
      </nav>`}<//>
  </section>`;
}
