// Adding numbers by CSV upload (POST .../{id}/numbers, text/csv): choose a file, map its columns
// (the header line is read in the browser; the mapping goes as `columns=`, by position, so the
// header's own names do not matter), send it with a progress bar (XMLHttpRequest reports upload
// progress, fetch does not), then the server's report: added, duplicates, rejected lines.
import { html, useState } from './vendor/preact-htm.js';
import { ApiError, csrfHeaders } from './api.js';

const ROLES = [['-', 'Ignore'], ['number', 'Number'], ['name', 'Name'],
  ...Array.from({ length: 9 }, (_, i) => [`p${i + 1}`, `Parameter ${i + 1}`])];
const REJECTED_PER_PAGE = 20;

// The header row as the server reads it: `,` or `;`, whichever it has more of; RFC 4180 quotes.
export function headerOf(text) {
  const line = text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] || '';
  const sep = (line.split(';').length > line.split(',').length) ? ';' : ',';
  const cells = [];
  let cell = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) { cells.push(cell); cell = ''; } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

// What the server would take each header name for (docs/rest-api.md, "CSV").
function guess(name) {
  const n = name.toLowerCase().replace(/[\s_]+/g, ' ').trim();
  if (['number', 'phone', 'phone number', 'phonenumber', 'telephone', 'tel', 'mobile'].includes(n)) return 'number';
  if (['name', 'customer name', 'customername'].includes(n)) return 'name';
  const p = n.match(/^(?:p|param|parameter ?)([1-9])$/);
  return p ? `p${p[1]}` : '-';
}

function send(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = { detail: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body); else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new Error('The upload did not reach the server (network error).'));
    xhr.send(file);
  });
}

export function Upload({ id, onAdded }) {
  const [file, setFile] = useState(null);
  const [header, setHeader] = useState(null);
  const [mapping, setMapping] = useState([]);
  const [progress, setProgress] = useState(null);
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const [rejectedPage, setRejectedPage] = useState(0);

  async function chosen(event) {
    const f = event.target.files[0] || null;
    setFile(f); setReport(null); setError(null); setProgress(null); setHeader(null);
    if (!f) return;
    const head = headerOf(await f.slice(0, 65536).text());
    setHeader(head);
    setMapping(head.map(guess));
  }
  async function upload(event) {
    event.preventDefault();
    setError(null); setReport(null);
    if (!mapping.includes('number')) { setError('Choose the column that holds the phone number.'); return; }
    const used = mapping.filter((m) => m !== '-');
    if (new Set(used).size !== used.length) { setError('Each of number, name and parameters can be chosen for one column only.'); return; }
    const columns = [...mapping];
    while (columns.length && columns[columns.length - 1] === '-') columns.pop();
    setProgress(0);
    try {
      const answer = await send(`/api/campaign/voice/${id}/numbers?columns=${encodeURIComponent(columns.join(','))}`, file, setProgress);
      setProgress(1);
      setReport(answer);
      setRejectedPage(0);
      onAdded();
    } catch (e) {
      setProgress(null);
      setError(e.message);
    }
  }
  const sending = progress !== null && report === null && !error;
  return html`<section aria-labelledby="upload-h" class="card">
    <h2 id="upload-h">Add numbers from a CSV file</h2>
    <form onSubmit=${upload}>
      <div class="field"><label for="u-file">CSV file</label>
        <input id="u-file" type="file" accept=".csv,text/csv,text/plain" onChange=${chosen} aria-describedby="u-file-hint" />
        <p class="hint" id="u-file-hint">UTF-8, the first line a header; up to 100,000 lines and 20 MiB per file. Numbers the campaign already has are skipped.</p></div>
      ${header ? html`<fieldset class="mapping">
        <legend>What each column holds</legend>
        <div class="row">${header.map((name, i) => html`<div class="field">
          <label for=${`u-col-${i}`}>Column ${i + 1}${name ? `: ${name}` : ''}</label>
          <select id=${`u-col-${i}`} value=${mapping[i]} onChange=${(e) => setMapping(mapping.map((m, j) => (j === i ? e.target.value : m)))}>
            ${ROLES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select></div>`)}</div>
      </fieldset>
      <button type="submit" disabled=${sending}>Upload</button>` : null}
    </form>
    ${progress !== null ? html`<div class="progress upload" role="progressbar" aria-label="Upload" aria-valuemin="0" aria-valuemax="100"
      aria-valuenow=${Math.round(progress * 100)}><span style=${{ width: `${progress * 100}%` }}></span></div>
      ${sending && progress >= 1 ? html`<p role="status">Sent; the server is adding the numbers…</p>` : null}` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${report ? html`<div data-testid="upload-report">
      <p role="status"><strong>${report.added.toLocaleString()} added</strong>, ${`${report.duplicates.toLocaleString()} ${report.duplicates === 1 ? 'duplicate' : 'duplicates'} skipped, ${report.rejectedCount.toLocaleString()} ${report.rejectedCount === 1 ? 'line' : 'lines'} rejected.`}</p>
      ${report.rejected.length ? html`<table class="list">
        <caption class="left">Rejected lines${report.rejectedCount > report.rejected.length ? ` (the first ${report.rejected.length} of ${report.rejectedCount})` : ''}</caption>
        <thead><tr><th scope="col" class="num">Line</th><th scope="col">Reason</th></tr></thead>
        <tbody>${report.rejected.slice(rejectedPage * REJECTED_PER_PAGE, (rejectedPage + 1) * REJECTED_PER_PAGE)
          .map((r) => html`<tr><td class="num">${r.line ?? r.index}</td><td>${r.reason}</td></tr>`)}</tbody>
      </table>
      ${report.rejected.length > REJECTED_PER_PAGE ? html`<nav class="pager" aria-label="Pages of rejected lines">
        <button type="button" class="secondary" disabled=${rejectedPage === 0} onClick=${() => setRejectedPage(rejectedPage - 1)}>Previous rejected</button>
        <span>${rejectedPage + 1} of ${Math.ceil(report.rejected.length / REJECTED_PER_PAGE)}</span>
        <button type="button" class="secondary" disabled=${(rejectedPage + 1) * REJECTED_PER_PAGE >= report.rejected.length}
          onClick=${() => setRejectedPage(rejectedPage + 1)}>Next rejected</button></nav>` : null}` : null}
    </div>` : null}
  </section>`;
}
