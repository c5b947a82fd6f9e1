// Progress chart: a goal's value over time against its planned line, drawn as
// inline SVG. Points come from the goal's check-ins (effective times) or,
// for a goal bound to a metric, from the metric.
import {svg, h, fmtValue, fmtNum, fmtDate} from '../util.js';

const W = 1000;
const H = 280;
const PAD = {l: 56, r: 16, t: 16, b: 32};
// A chart draws at most this many points of a long series (see thin) and
// marks each value with a dot only up to MAX_DOTS.
const THIN_BUCKETS = 500;
const MAX_DOTS = 400;

/**
 * [lowest, highest] of `values`, in one pass: Math.min(...values) throws
 * past ~120,000 values, and a metric fed every minute has that in 3 months.
 */
export function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * The points (oldest first, {t, v}) a line of `buckets` steps across the
 * chart needs: in each step of time the lowest and the highest value, in
 * time order, and the first and last point. Short series come back as
 * they are. A line through 500,000 points looks the same and draws in
 * milliseconds.
 */
export function thin(points, buckets = THIN_BUCKETS) {
  if (points.length <= 2 * buckets + 2) return points;
  const t0 = points[0].t;
  const span = Math.max(points[points.length - 1].t - t0, 1);
  const out = [points[0]];
  let bucket = -1;
  let lo = null;
  let hi = null;
  const flush = () => {
    if (!lo) return;
    if (lo === hi) out.push(lo);
    else out.push(...(lo.t <= hi.t ? [lo, hi] : [hi, lo]));
  };
  for (let i = 1; i < points.length - 1; ++i) {
    const p = points[i];
    const b = Math.min(Math.floor((p.t - t0) / span * buckets), buckets - 1);
    if (b !== bucket) {
      flush();
      bucket = b;
      lo = hi = p;
    } else {
      if (p.v < lo.v) lo = p;
      if (p.v > hi.v) hi = p;
    }
  }
  flush();
  out.push(points[points.length - 1]);
  return out;
}

/**
 * goal: goal response; cycle: {start, end}; points: [{t (ms), v}] oldest
 * first; now: ms, marked on the chart as `nowLabel`; source: where the
 * points come from, shown in the legend.
 * Returns a <figure> with the SVG and a text summary.
 */
export function progressChart(goal, cycle, points,
    {now = Date.now(), nowLabel = 'today', source = null} = {}) {
  const m = goal.measure;
  if (!m || m.direction === 'binary' || !cycle) {
    return h('p', {class: 'muted'}, 'No chart: this goal has no numeric measure.');
  }
  const t0 = Date.parse(`${cycle.start}T00:00:00Z`);
  const t1 = Date.parse(`${cycle.end}T00:00:00Z`) + 86400000;
  const start = Number(m.start ?? 0);
  const target = Number(m.target);
  const values = [start, target];
  for (const p of points) values.push(p.v);
  if (m.stretch !== undefined && m.stretch !== null) values.push(Number(m.stretch));
  let [lo, hi] = extent(values);
  if (lo === hi) hi = lo + 1;
  const pad = (hi - lo) * 0.08;
  lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
  hi += pad;
  const x = (t) => PAD.l + (Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) *
      (W - PAD.l - PAD.r);
  const y = (v) => PAD.t + (hi - v) / (hi - lo) * (H - PAD.t - PAD.b);

  const root = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart',
    role: 'img', 'aria-labelledby': 'chart-title', 'data-testid': 'progress-chart'});
  root.append(svg('title', {id: 'chart-title',
    text: `Value over time against the plan, from ${fmtValue(start, m.unit)} ` +
      `to ${fmtValue(target, m.unit)}`}));

  // Grid and y labels on round values.
  const raw = (hi - lo) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  for (let v = lo; v <= hi + step / 2; v += step) {
    root.append(svg('line', {x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v),
      class: 'grid'}));
    root.append(svg('text', {x: PAD.l - 8, y: y(v) + 4, 'text-anchor': 'end',
      class: 'axis', text: fmtNum(Number(v.toPrecision(3)))}));
  }
  root.append(svg('text', {x: PAD.l, y: H - 8, class: 'axis',
    text: fmtDate(cycle.start)}));
  root.append(svg('text', {x: W - PAD.r, y: H - 8, 'text-anchor': 'end',
    class: 'axis', text: fmtDate(cycle.end)}));

  // Target line and planned line.
  root.append(svg('line', {x1: PAD.l, x2: W - PAD.r, y1: y(target),
    y2: y(target), class: 'target-line'}));
  root.append(svg('line', {x1: x(t0), y1: y(start), x2: x(t1), y2: y(target),
    class: 'plan-line', 'data-testid': 'plan-line'}));

  // Today.
  if (now > t0 && now < t1) {
    root.append(svg('line', {x1: x(now), x2: x(now), y1: PAD.t, y2: H - PAD.b,
      class: 'today'}));
    root.append(svg('text', {x: x(now) + 4, y: PAD.t + 10, class: 'axis',
      text: nowLabel}));
  }

  // Actual values: from the start value at the cycle start.
  const series = [{t: t0, v: start},
    ...thin(points.filter((p) => p.t >= t0))];
  const d = series.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},` +
      `${y(p.v).toFixed(1)}`).join(' ');
  root.append(svg('path', {d, class: 'actual-line', 'data-testid': 'actual-line'}));
  // A dot per value while they can be told apart.
  for (const p of points.length <= MAX_DOTS ? points : []) {
    root.append(svg('circle', {cx: x(p.t), cy: y(p.v), r: 3.5, class: 'point'},
        svg('title', {text: `${fmtValue(p.v, m.unit)} · ${new Date(p.t)
            .toISOString().slice(0, 10)}`})));
  }

  const legend = h('figcaption', {class: 'legend'},
      h('span', {class: 'key actual'}, 'Actual'),
      h('span', {class: 'key plan'}, 'Planned'),
      h('span', {class: 'key target'}, `Target ${fmtValue(target, m.unit)}`),
      m.unit ? h('span', {}, `Values in ${m.unit}`) : null,
      source ? h('span', {testid: 'chart-source'}, source) : null);
  return h('figure', {class: 'chart-wrap'}, root, legend);
}
