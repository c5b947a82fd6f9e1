// Metrics: the KPIs other systems feed (POST /api/v1/metrics/{id}/values),
// each with its latest value and the goals bound to it; one metric's values
// over time. Editors define metrics and enter a value by hand (a value
// reported late is dated the day it was true).
import {h, table, tableHead, viewSlot, svg, fmtValue, fmtNum, fmtAgo,
  fmtDateTime, goalHref, momentShown} from '../util.js';
import {api} from '../api.js';
import {openNewMetric, openRecordValue} from './dialogs.js';
import {extent, thin} from './chart.js';

const AGGREGATE_LABEL = {last: 'Last', sum: 'Sum', avg: 'Average',
  min: 'Lowest', max: 'Highest'};
const SHOWN_POINTS = 20;

/** `selected`: the id of the metric whose values are shown, or ''. */
export async function renderMetrics(container, ctx, selected = '') {
  const place = viewSlot(container);
  const metrics = await api.metrics();
  // Shows the list again with `id`'s values (a new hash routes here).
  const again = (id = selected) => {
    const target = ctx.viewHref('metrics', id);
    if (location.hash !== target) location.hash = target;
    else renderMetrics(container, ctx, id).catch(() => {});
  };
  const chosen = metrics.find((m) => m.id === selected) || null;
  const detail = chosen ? await metricPanel(chosen, ctx) : null;
  place(
      h('header', {class: 'page-head'},
          h('div', {}, h('h1', {}, 'Metrics'),
              h('p', {class: 'muted'}, 'KPIs that other systems feed. A goal ' +
                'bound to one takes its aggregate over the goal\'s cycle.')),
          ctx.can.write ? h('div', {class: 'head-actions'},
              h('button', {class: 'btn primary', type: 'button',
                testid: 'new-metric', onclick: () => openNewMetric(
                    (made) => again(made?.id))}, 'New metric')) : null),
      h('section', {class: 'panel'}, metrics.length ?
        metricsTable(metrics, selected, ctx, again) :
        h('p', {class: 'muted', testid: 'metrics-empty'}, 'No metrics yet.' +
          (ctx.can.write ? ' Define one, then bind a goal to it with ' +
            '"Fed by metric" when making the goal.' : ''))),
      detail);
}

function metricsTable(metrics, selected, ctx, again) {
  return table({testid: 'metrics'},
      tableHead(['Metric', 'Unit', 'Aggregate', 'Values', 'Latest', 'Goals',
        '']),
      h('tbody', {}, metrics.map((m) => h('tr', {testid: `metric-${m.id}`,
        class: m.id === selected ? 'selected' : ''},
      h('td', {}, h('a', {href: ctx.viewHref('metrics', m.id),
        testid: 'metric-open'}, m.name || m.id),
      h('div', {class: 'muted small'}, m.id)),
      h('td', {}, m.unit || '—'),
      h('td', {}, AGGREGATE_LABEL[m.aggregate] || m.aggregate),
      h('td', {testid: 'metric-count'}, fmtNum(m.point_count)),
      h('td', {testid: 'metric-last'}, m.last ?
        [fmtValue(m.last.value, m.unit),
          h('div', {class: 'muted small', title: fmtDateTime(m.last.ts)},
              fmtAgo(m.last.ts, momentShown() ?? Date.now()))] : '—'),
      h('td', {testid: 'metric-goals'}, m.goals.length ?
        h('ul', {class: 'plain'}, m.goals.map((id) => h('li', {},
            h('a', {href: goalHref(id)}, id)))) : '—'),
      h('td', {}, ctx.can.write ? h('button', {class: 'btn', type: 'button',
        testid: 'metric-record',
        onclick: () => openRecordValue(m, () => again(m.id))},
      'Record a value') : null)))));
}

// The spans of time the metric's values can be shown for; the one picked
// last is kept per browser.
const RANGES = [['30d', 'Last 30 days', 30], ['90d', 'Last 90 days', 90],
  ['1y', 'Last 12 months', 365], ['all', 'All time', 0]];
const RANGE_KEY = 'cairn.metric-range';

// The range picked last in this browser; 12 months at first.
function pickedRange() {
  const saved = localStorage.getItem(RANGE_KEY);
  return RANGES.some(([key]) => key === saved) ? saved : '1y';
}

/**
 * The metric's values in the picked span of time: a line over time and the
 * latest ones, newest first. Only that span is read from the server.
 */
async function metricPanel(m, ctx) {
  const body = h('div', {testid: 'metric-values'});
  const count = h('span', {class: 'muted', testid: 'metric-range-count'});
  const range = h('select', {testid: 'metric-range',
    'aria-label': 'Values from'}, RANGES.map(([key, label]) =>
    h('option', {value: key, selected: key === pickedRange()}, label)));
  let shown = 0;  // a later pick wins over a slower earlier read
  const show = async () => {
    const mine = ++shown;
    const [key, label, days] = RANGES.find(([k]) => k === range.value);
    body.dataset.loading = '';
    // Counted back from the moment shown (a past one, or now).
    const end = momentShown() ?? Date.now();
    const from = days ? new Date(end - days * 86400000).toISOString() :
      undefined;
    const full = await api.metric(m.id, from);
    if (mine !== shown) return;
    const points = (full.points || []).map((p) => ({t: Date.parse(p.ts),
      v: Number(p.value), ts: p.ts})).filter((p) => !Number.isNaN(p.t));
    count.textContent = ` · ${fmtNum(points.length)} ` +
      `value${points.length === 1 ? '' : 's'}`;
    body.dataset.range = key;
    body.replaceChildren(...valuesOf(points, m, ctx, key === 'all' ? '' :
      label.toLowerCase()));
    delete body.dataset.loading;
  };
  range.addEventListener('change', () => {
    localStorage.setItem(RANGE_KEY, range.value);
    show().catch((e) => body.replaceChildren(h('p', {class: 'form-error',
      role: 'alert'}, `Could not read the values: ${e.message || e}`)));
  });
  await show();
  return h('section', {class: 'panel', testid: 'metric-panel'},
      h('div', {class: 'panel-head'},
          h('h2', {}, `${m.name || m.id}`, count), range),
      body,
      h('p', {}, h('a', {href: ctx.viewHref('metrics'),
        testid: 'metric-close'}, 'Close')));
}

// The chart and the latest values of `points`; `span` names the range
// ('' for all time).
function valuesOf(points, m, ctx, span) {
  if (!points.length) {
    return [h('p', {class: 'muted', testid: 'metric-none'}, m.point_count ?
      `No values in the ${span}.` :
      'No values yet.' + (ctx.can.write ? ' Systems send them to POST ' +
        `/api/v1/metrics/${m.id}/values; "Record a value" enters one.` :
        ''))];
  }
  const latest = points.slice(-SHOWN_POINTS).reverse();
  return [lineChart(points, m),
    table({testid: 'metric-points'},
        h('caption', {class: 'muted'}, points.length > SHOWN_POINTS ?
          `The latest ${SHOWN_POINTS}` :
          `All values${span ? ` in the ${span}` : ''}`),
        tableHead(['When', 'Value']),
        h('tbody', {}, latest.map((p) => h('tr', {testid: 'metric-point'},
            h('td', {}, fmtDateTime(p.ts)),
            h('td', {}, fmtValue(p.v, m.unit))))))];
}

// A plain line of the values over time, as inline SVG.
function lineChart(points, m) {
  const W = 1000;
  const H = 220;
  const P = {l: 56, r: 16, t: 12, b: 28};
  const t0 = points[0].t;
  const t1 = Math.max(points[points.length - 1].t, t0 + 1);
  let [lo, hi] = extent(points.map((p) => p.v));
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const x = (t) => P.l + (t - t0) / (t1 - t0) * (W - P.l - P.r);
  const y = (v) => P.t + (hi - v) / (hi - lo) * (H - P.t - P.b);
  const root = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart',
    role: 'img', 'data-testid': 'metric-chart',
    'aria-label': `${m.name || m.id} from ${fmtValue(points[0].v, m.unit)} ` +
      `to ${fmtValue(points[points.length - 1].v, m.unit)}`});
  for (const v of [lo, hi]) {
    root.append(svg('line', {x1: P.l, x2: W - P.r, y1: y(v), y2: y(v),
      class: 'grid'}));
    root.append(svg('text', {x: P.l - 6, y: y(v) + 4, 'text-anchor': 'end',
      class: 'axis', text: fmtNum(v)}));
  }
  root.append(svg('text', {x: P.l, y: H - 8, class: 'axis',
    text: fmtDateTime(points[0].ts)}));
  root.append(svg('text', {x: W - P.r, y: H - 8, 'text-anchor': 'end',
    class: 'axis', text: fmtDateTime(points[points.length - 1].ts)}));
  root.append(svg('polyline', {class: 'actual-line',
    points: thin(points).map((p) => `${x(p.t)},${y(p.v)}`).join(' ')}));
  return h('figure', {class: 'chart-wrap'}, root);
}
