// Pieces the campaigns list and the campaign page both show, from a campaign summary
// (GET .../summaries, .../{id}/summary, or a `campaign` event: the same shape).
import { html } from './vendor/preact-htm.js';

// Finished numbers (done or cancelled) over all of them.
export function Progress({ summary, label }) {
  const finished = summary.done + summary.cancelled;
  const total = summary.total;
  const share = total ? (100 * finished) / total : 0;
  return html`<div class="progress" role="progressbar" aria-label=${label} aria-valuemin="0"
    aria-valuemax=${total} aria-valuenow=${finished} aria-valuetext=${`${finished} of ${total} (${Math.floor(share)}%)`}>
    <span style=${{ width: `${share}%` }}></span>
  </div>`;
}

export function percent(value) {
  return value === null || value === undefined ? '—' : `${Number(value).toFixed(1)}%`;
}

// The summary's estimate: a lower bound at the last 15 minutes' pace, only while Running.
export function eta(summary) {
  if (summary.estimatedSecondsToFinish === null || summary.estimatedSecondsToFinish === undefined) return '—';
  return html`<span title=${summary.estimatedFinishAt ? `about ${new Date(summary.estimatedFinishAt).toLocaleString()}` : ''}>${roughly(summary.estimatedSecondsToFinish)}</span>`;
}

function roughly(seconds) {
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return h < 48 ? `${h} h ${m} min` : `${Math.round(h / 24)} days`;
}
