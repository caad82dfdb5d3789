// Every call the console makes goes through the documented REST API. The session cookie is
// HttpOnly and sent by the browser; the CSRF token lives only in this module's memory (it is
// read again from GET /api/session after a reload) and goes with every change.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.errors = (body && body.errors) || {};
  }
}

export function setCsrf(token) { csrfToken = token; }
export function whenSignedOut(callback) { onSignedOut = callback; }

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch (_) { parsed = { detail: text }; }
  }
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/session') onSignedOut();
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path, body) => api('DELETE', path, body);

// For requests api() cannot make (an XMLHttpRequest upload with progress): the CSRF header.
export function csrfHeaders() { return csrfToken ? { 'X-CSRF-Token': csrfToken } : {}; }
