// The console's shell: who is signed in, the navigation, and hash routes (#/campaigns/3), so
// the server serves one page and every path under /api stays the API's.
import { html, render, useEffect, useState } from './vendor/preact-htm.js';
import { ApiError, del, get, post, setCsrf, whenSignedOut } from './api.js';
import { CampaignForm } from './campaigns.js';
import { CampaignList } from './campaign_list.js';
import { CampaignPage } from './campaign_page.js';
import { Desk } from './desk.js';
import { DncPage, SettingsPage, WebhooksPage } from './admin.js';
import { Wallboard } from './wallboard.js';
import { FlowsPage } from './flows.js';
import { Notice } from './ui.js';

const MANAGER_NAV = [
  ['#/campaigns', 'Campaigns'],
  ['#/wallboard', 'Wallboard'],
  ['#/callflows', 'Call flows'],
  ['#/dnc', 'Do not call'],
  ['#/webhooks', 'Webhooks'],
  ['#/settings', 'Settings'],
];
const AGENT_NAV = [['#/desk', 'Agent desk']];

function currentRoute() {
  return (location.hash || '#/').slice(1).split('/').filter(Boolean);
}

function Login({ onSignedIn }) {
  const [mode, setMode] = useState('manager');
  const [secret, setSecret] = useState('');
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      const body = mode === 'manager' ? { apiKey: secret.trim() } : { agentToken: secret.trim() };
      const session = await post('/api/session', body);
      setSecret('');
      onSignedIn(session);
    } catch (error) {
      const text = error instanceof ApiError && error.status === 401
        ? (mode === 'manager' ? 'That API key was not accepted.' : 'That agent token was not accepted.')
        : error.message;
      setNotice({ kind: 'error', text });
    } finally {
      setBusy(false);
    }
  }
  const label = mode === 'manager' ? 'API key' : 'Agent token';
  return html`<main id="main" class="login">
    <h1>dialer console</h1>
    <form onSubmit=${submit} class="card">
      <fieldset>
        <legend>I am</legend>
        <label class="inline"><input type="radio" name="mode" value="manager" checked=${mode === 'manager'}
          onChange=${() => setMode('manager')} /> a campaign manager</label>
        <label class="inline"><input type="radio" name="mode" value="agent" checked=${mode === 'agent'}
          onChange=${() => setMode('agent')} /> an agent</label>
      </fieldset>
      <div class="field">
        <label for="secret">${label}</label>
        <input id="secret" type="password" autocomplete="off" required value=${secret}
          onInput=${(e) => setSecret(e.target.value)} aria-describedby="secret-hint" />
        <p class="hint" id="secret-hint">${mode === 'manager'
          ? 'The key from `dialer tenant create`. The console keeps a session, never the key.'
          : 'The token your manager issued for your desk (agt_…).'}</p>
      </div>
      <${Notice} notice=${notice} />
      <button type="submit" disabled=${busy}>Log in</button>
    </form>
  </main>`;
}

function Page({ session, route }) {
  const [head, id, sub] = route;
  if (session.kind === 'agent') return html`<${Desk} session=${session} />`;
  switch (head) {
    case 'campaigns':
      if (id === 'new') return html`<${CampaignForm} />`;
      if (id && sub === 'edit') return html`<${CampaignForm} id=${id} />`;
      if (id) return html`<${CampaignPage} id=${id} />`;
      return html`<${CampaignList} />`;
    case 'wallboard': return html`<${Wallboard} />`;
    case 'callflows': return html`<${FlowsPage} />`;
    case 'dnc': return html`<${DncPage} />`;
    case 'webhooks': return html`<${WebhooksPage} />`;
    case 'settings': return html`<${SettingsPage} />`;
    default: return html`<${CampaignList} />`;
  }
}

function Shell({ session, onSignOut }) {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const changed = () => {
      setRoute(currentRoute());
      const main = document.getElementById('main');
      if (main) main.focus();
    };
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  const nav = session.kind === 'agent' ? AGENT_NAV : MANAGER_NAV;
  const here = '#/' + (route[0] || (session.kind === 'agent' ? 'desk' : 'campaigns'));
  const who = session.agent ? `${session.agent.name} (${session.agent.member}), ${session.tenant.name}` : session.tenant.name;
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <span class="brand">dialer</span>
      <nav aria-label="Main">
        <ul>${nav.map(([href, text]) => html`<li><a href=${href} aria-current=${here === href ? 'page' : undefined}>${text}</a></li>`)}</ul>
      </nav>
      <span class="who">${who}</span>
      <button type="button" class="secondary" onClick=${onSignOut}>Log out</button>
    </header>
    <main id="main" tabindex="-1"><${Page} session=${session} route=${route} /></main>`;
}

function App() {
  const [session, setSession] = useState(undefined);
  useEffect(() => {
    whenSignedOut(() => { setCsrf(null); setSession(null); });
    get('/api/session').then(
      (s) => { setCsrf(s.csrfToken); setSession(s); },
      () => setSession(null),
    );
  }, []);
  if (session === undefined) return html`<p class="loading" role="status">Loading…</p>`;
  if (session === null) {
    return html`<${Login} onSignedIn=${(s) => {
      setCsrf(s.csrfToken);
      location.hash = s.kind === 'agent' ? '#/desk' : '#/campaigns';
      setSession(s);
    }} />`;
  }
  async function signOut() {
    try { await del('/api/session'); } catch (_) { /* already over: sign out all the same */ }
    setCsrf(null);
    setSession(null);
  }
  return html`<${Shell} session=${session} onSignOut=${signOut} />`;
}

document.getElementById('app').textContent = '';
render(html`<${App} />`, document.getElementById('app'));
