// The campaign page's charts, from GET .../{id}/statistics: attempts and their outcomes per
// bucket, the stages the calls reached, and the answer rate (plus, for an agent campaign, the abandoned-call rate over its
// rolling window against the limit, and the pacing ratio: lines dialled per agent available). Drawn with uPlot (vendored); each chart has a text
// alternative: an aria label with the totals and a table of the buckets with attempts.
// Live: a new summary from the stream refetches the statistics, at most once every 5 s.
import { html, useEffect, useRef, useState } from './vendor/preact-htm.js';
import uPlot from './vendor/uplot.js';
import { get } from './api.js';
import { percent } from './campaign_bits.js';

const EVERY_MS = 5000;
const COLOURS = ['#0b5cad', '#1a7f37', '#b35900', '#8250df', '#cf222e', '#57606a'];
const SPANS = { '5m': 'the last 24 hours, per 5 minutes', '1h': 'the last 7 days, per hour' };

function useThrottledStatistics(id, bucket, trigger) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const last = useRef(0);
  const timer = useRef(null);
  const fetchNow = useRef(null);
  fetchNow.current = () => {
    last.current = Date.now();
    get(`/api/campaign/voice/${id}/statistics?bucket=${bucket}`).then(
      (d) => { setData(d); setError(null); },
      (e) => setError(e),
    );
  };
  useEffect(() => { fetchNow.current(); }, [id, bucket]);
  useEffect(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + EVERY_MS - Date.now());
    timer.current = setTimeout(() => { timer.current = null; fetchNow.current(); }, wait);
  }, [trigger]);
  useEffect(() => () => timer.current && clearTimeout(timer.current), []);
  return [data, error];
}

function Plot({ title, series, data, yLabel, summary, testid }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(280, (box.current && box.current.clientWidth) || 600);
    const options = {
      title, width, height: 220,
      axes: [{}, { label: yLabel }],
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.colour || COLOURS[i % COLOURS.length], width: s.width || 2, dash: s.dash,
        // Rates exist only for buckets with calls: dots, so a lone bucket still shows.
        points: { show: !!s.dots, size: 6, fill: s.colour }, spanGaps: !!s.dots }))],
      scales: { x: { time: true } },
    };
    if (plot.current) plot.current.destroy();
    plot.current = new uPlot(options, data, box.current);
    const resized = () => plot.current && plot.current.setSize({ width: Math.max(280, box.current.clientWidth), height: 220 });
    window.addEventListener('resize', resized);
    return () => window.removeEventListener('resize', resized);
  }, [title, yLabel, series.map((s) => s.label).join('|')]);
  useEffect(() => { if (plot.current) plot.current.setData(data); }, [data]);
  useEffect(() => () => { if (plot.current) { plot.current.destroy(); plot.current = null; } }, []);
  return html`<figure class="chart" data-testid=${testid}>
    <div ref=${box} role="img" aria-label=${`${title}: ${summary}`}></div>
    <figcaption class="visually-hidden">${summary}</figcaption>
  </figure>`;
}

export function Charts({ id, agent, summary }) {
  const [bucket, setBucket] = useState('5m');
  // Any change in the live summary (a call ended, a number finished) may change the figures;
  // for an agent campaign, so may a change of what its pacer saw (its ratio is charted).
  const trigger = summary ? `${summary.done}/${summary.inFlight}/${summary.cancelled}/${summary.answered}`
    + `/${summary.agentsReady}/${summary.callsRinging}/${summary.waitingForAgent}` : '';
  const [stats, error] = useThrottledStatistics(id, bucket, trigger);
  let body;
  if (error) body = html`<p class="error" role="alert">${error.message}</p>`;
  else if (!stats) body = html`<p class="loading" role="status">Loading…</p>`;
  else body = html`<${ChartsOf} stats=${stats} agent=${agent} />`;
  return html`<section aria-labelledby="charts-h" class="card">
    <div class="section-head">
      <h2 id="charts-h">Activity</h2>
      <div class="field inline"><label for="c-bucket">Show</label>
        <select id="c-bucket" value=${bucket} onChange=${(e) => setBucket(e.target.value)}>
          <option value="5m">Last 24 hours, per 5 minutes</option>
          <option value="1h">Last 7 days, per hour</option>
        </select></div>
    </div>
    ${body}
  </section>`;
}

function ChartsOf({ stats, agent }) {
  const xs = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const names = Object.entries(stats.totals.outcomes).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n]) => n);
  const attempts = [xs, stats.buckets.map((b) => b.attempts), ...names.map((n) => stats.buckets.map((b) => b.outcomes[n] || 0))];
  const attemptSeries = [{ label: 'Attempts', colour: '#24292f' }, ...names.map((n, i) => ({ label: n, colour: COLOURS[i] }))];
  // Stages other than None: how far the answered calls went (the commonest five).
  const stageNames = Object.entries(stats.totals.stages).filter(([n]) => n !== 'None')
    .sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n]) => n);
  const stages = [xs, ...stageNames.map((n) => stats.buckets.map((b) => b.stages[n] || 0))];
  const stageSeries = stageNames.map((n, i) => ({ label: n, colour: COLOURS[i] }));
  const stagesSummary = `Stages reached over ${SPANS[stats.bucket]}: ${stageNames.map((n) => `${n} ${stats.totals.stages[n]}`).join(', ') || 'none yet'}.`;
  const rates = [xs, stats.buckets.map((b) => b.answerRate)];
  const rateSeries = [{ label: 'Answer rate %', colour: COLOURS[1], dots: true }];
  if (agent) {
    rates.push(stats.buckets.map((b) => b.abandonedRate));
    rateSeries.push({ label: `Abandoned % (${stats.abandonedWindow || 'window'})`, colour: COLOURS[4], dots: true });
    if (stats.abandonedLimit !== null) {
      rates.push(stats.buckets.map(() => stats.abandonedLimit));
      rateSeries.push({ label: 'Abandoned limit %', colour: COLOURS[4], dash: [6, 4] });
    }
  }
  const pacing = agent ? pacingChart(stats, xs) : null;
  const t = stats.totals;
  const outcomes = Object.entries(t.outcomes).map(([n, v]) => `${n} ${v}`).join(', ') || 'none';
  const attemptsSummary = `${t.attempts} attempts over ${SPANS[stats.bucket]}; outcomes: ${outcomes}.`;
  const lastRate = [...stats.buckets].reverse().find((b) => b.answerRate !== null);
  const lastAbandoned = [...stats.buckets].reverse().find((b) => b.abandonedRate !== null && b.abandonedRate !== undefined);
  const rateSummary = `Answer rate ${lastRate ? percent(lastRate.answerRate) : 'not known yet'} in the latest bucket with calls`
    + (agent ? `; abandoned-call rate ${lastAbandoned ? percent(lastAbandoned.abandonedRate) : '—'} of at most ${percent(stats.abandonedLimit)}` : '') + '.';
  const active = stats.buckets.filter((b) => b.attempts);
  return html`
    <div class="charts">
      <${Plot} title="Attempts by outcome" yLabel="attempts" series=${attemptSeries} data=${attempts} summary=${attemptsSummary} testid="chart-attempts" />
      <${Plot} title="Rates" yLabel="%" series=${rateSeries} data=${rates} summary=${rateSummary} testid="chart-rates" />
      ${pacing ? html`<${Plot} title="Pacing ratio" yLabel="lines per agent available" series=${pacing.series} data=${pacing.data} summary=${pacing.summary} testid="chart-pacing" />` : null}
      ${stageNames.length ? html`<${Plot} title="Attempts by stage reached" yLabel="attempts" series=${stageSeries} data=${stages} summary=${stagesSummary} testid="chart-stages" />` : null}
    </div>
    <p class="hint" data-testid="chart-totals">${attemptsSummary}
      ${agent && stats.pacing ? ` Pacing: ${stats.pacing.ratio.toFixed(2)} calls per free agent (${stats.pacing.reason}, ${new Date(stats.pacing.decidedAt).toLocaleTimeString()}).` : ''}</p>
    <details>
      <summary>The figures as a table (${active.length} ${stats.bucket === '5m' ? '5-minute' : 'hourly'} ${active.length === 1 ? 'period' : 'periods'} with attempts)</summary>
      ${active.length ? html`<table class="list">
        <thead><tr><th scope="col">From</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Answered</th>
          <th scope="col" class="num">Answer rate</th>${agent ? html`<th scope="col" class="num">Abandoned rate</th><th scope="col" class="num">Pacing ratio</th>` : null}
          <th scope="col">Outcomes</th><th scope="col">Stages</th></tr></thead>
        <tbody>${active.slice(-50).reverse().map((b) => html`<tr>
          <td>${new Date(b.start).toLocaleString()}</td><td class="num">${b.attempts}</td><td class="num">${b.answered}</td>
          <td class="num">${percent(b.answerRate)}</td>${agent ? html`<td class="num">${percent(b.abandonedRate)}</td><td class="num">${ratio(b.pacingRatio)}</td>` : null}
          <td>${Object.entries(b.outcomes).map(([n, v]) => `${n} ${v}`).join(', ')}</td>
          <td>${Object.entries(b.stages).map(([n, v]) => `${n} ${v}`).join(', ')}</td></tr>`)}</tbody>
      </table>` : html`<p>No attempts in this span yet.</p>`}
    </details>`;
}

const ratio = (r) => (r === null || r === undefined ? '—' : r.toFixed(2));

// An agent campaign's pacing ratio per bucket (the mean of the decisions the engine saved in it,
// one every 5 s while it dials; the store keeps 7 days of them), with the least and greatest.
function pacingChart(stats, xs) {
  const saved = stats.buckets.filter((b) => b.pacingRatio !== null && b.pacingRatio !== undefined);
  // The mean last, so it is drawn over the others when all three are equal.
  const data = [xs, stats.buckets.map((b) => b.pacingRatioMin), stats.buckets.map((b) => b.pacingRatioMax),
    stats.buckets.map((b) => b.pacingRatio)];
  const series = [
    { label: 'Least', colour: COLOURS[5], dash: [2, 3], width: 1, dots: true },
    { label: 'Greatest', colour: COLOURS[5], dash: [8, 3], width: 1, dots: true },
    { label: 'Ratio (mean)', colour: COLOURS[0], dots: true },
  ];
  let summary = `No pacing decision saved over ${SPANS[stats.bucket]} (the pacer decides while the campaign dials).`;
  if (saved.length) {
    const last = saved[saved.length - 1];
    const low = Math.min(...saved.map((b) => b.pacingRatioMin));
    const high = Math.max(...saved.map((b) => b.pacingRatioMax));
    summary = `Pacing ratio, lines dialled per agent available, over ${SPANS[stats.bucket]}: ${ratio(last.pacingRatio)} in the latest period with decisions (${new Date(last.start).toLocaleTimeString()}); between ${ratio(low)} and ${ratio(high)} over the span.`;
  }
  return { data, series, summary };
}
