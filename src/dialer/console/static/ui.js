// Small shared pieces. Every value goes into templates as an interpolation, which Preact
// renders as text: nothing here builds HTML from strings.
import { html, useEffect, useState } from './vendor/preact-htm.js';

export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => { live = false; };
  }, [...deps, tick]);
  return [state, () => setTick((t) => t + 1)];
}

export function Loading({ state, children }) {
  if (state.error) return html`<p class="error" role="alert">${state.error.message}</p>`;
  if (state.loading && state.data === null) return html`<p class="loading" role="status">Loading…</p>`;
  return children(state.data);
}

export function Empty({ title, children }) {
  return html`<div class="empty"><h2>${title}</h2><p>${children}</p></div>`;
}

// The field errors of a REST 400 whose path starts with one of `names` (case-insensitive).
export function fieldErrors(errors, ...names) {
  const wanted = names.map((n) => n.toLowerCase());
  const found = [];
  for (const [path, messages] of Object.entries(errors || {})) {
    const head = path.toLowerCase();
    if (wanted.some((w) => head === w || head.startsWith(w + '[') || head.startsWith(w + '.'))) {
      for (const m of messages) found.push(path.includes('[') || path.includes('.') ? `${path}: ${m}` : m);
    }
  }
  return found;
}

export function Field({ id, label, errors, hint, children }) {
  const described = [hint ? `${id}-hint` : null, errors && errors.length ? `${id}-error` : null]
    .filter(Boolean).join(' ') || undefined;
  return html`<div class=${'field' + (errors && errors.length ? ' invalid' : '')}>
    <label for=${id}>${label}</label>
    ${children({ id, 'aria-describedby': described, 'aria-invalid': errors && errors.length ? 'true' : undefined })}
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    ${errors && errors.length ? html`<ul class="field-error" id=${`${id}-error`}>${errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}
  </div>`;
}

export function Notice({ notice }) {
  if (!notice) return null;
  return html`<p class=${notice.kind === 'error' ? 'error' : 'ok'} role=${notice.kind === 'error' ? 'alert' : 'status'}>${notice.text}</p>`;
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}:${String(r).padStart(2, '0')}`;
}
