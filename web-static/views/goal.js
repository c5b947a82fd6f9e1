// A goal's page: header, progress chart and the timeline of its history.
import {h, viewSlot, cycleBounds, fmtAny, fmtValue, fmtDateTime, fmtGrade,
  fmtNum, fmtPct, isFinished, FIELD_LABEL, KIND_LABEL, PACING_LABEL, goalHref,
  momentShown} from '../util.js';
import {api} from '../api.js';
import {progressChart} from './chart.js';
import {nextStatuses, openCheckIn, openEditGoal, openEditTarget, openSplit,
  openStatus} from './dialogs.js';

export const TYPE_LABEL = {
  'goal.created': 'Created', 'goal.edited': 'Edited',
  'goal.status_changed': 'Status changed', 'goal.checked_in': 'Checked in',
  'goal.decomposed': 'Split into parts',
};

/** Normalises `changes` (a map field -> {from,to} or a list) to a list. */
export function changeList(ev) {
  const raw = ev.changes ?? ev.data?.changes;
  if (!raw) return [];
  if (Array.isArray(raw)) {
    return raw.map((c) => (typeof c === 'string' ? {text: c} :
      {field: c.field ?? c.path, from: c.from, to: c.to}));
  }
  if (typeof raw === 'object') {
    return Object.entries(raw).map(([field, c]) =>
      (c && typeof c === 'object' && ('from' in c || 'to' in c) ?
        {field, from: c.from, to: c.to} : {field, to: c}));
  }
  return [{text: String(raw)}];
}

/** A split (goal.decomposed) in words: how, into what. */
function splitText(d, unit) {
  const shares = d.shares || [];
  const n = (d.children || shares).length;
  if (d.by === 'funnel') {
    return 'Funnel: ' + (d.stages || []).map((st) => `${st.name} ` +
      `${fmtNum(st.target)}` + (st.rate ? ` (${fmtPct(st.rate)})` : ''))
        .join(' → ');
  }
  if (d.by === 'owners') {
    return `By owners into ${n} parts: ` + (d.parts || []).map((p, i) =>
      `${p.owner || p.unit} ${fmtAny(shares[i], unit)}` +
      (p.weight ? ` (weight ${fmtNum(p.weight)})` : '')).join(' · ');
  }
  if (d.by === 'time' && shares.length) {
    const lo = Math.min(...shares);
    const hi = Math.max(...shares);
    return `By ${d.into || 'period'} into ${n} parts, ` +
      `${d.weights ? 'weighted' : 'by their days'}: ` +
      (lo === hi ? `${fmtAny(lo, unit)} each` :
        `${fmtAny(lo, unit)} to ${fmtAny(hi, unit)} each`);
  }
  return `Split by ${d.by} into ${n} parts`;
}

/** The lines that say what a goal's event changed, and why. */
export function eventDetails(ev, unit) {
  const d = ev.data || {};
  const out = [];
  const changes = changeList(ev);
  if (ev.type === 'goal.checked_in') {
    const parts = [];
    const moved = changes.find((c) => c.field === 'value');
    if (moved && moved.from !== null && moved.from !== undefined &&
        moved.from !== moved.to) {
      parts.push(`value ${fmtAny(moved.from, unit)} → ${fmtAny(d.value, unit)}`);
    } else if (d.value !== undefined) {
      parts.push(`value ${fmtAny(d.value, unit)}`);
    }
    if (d.confidence !== undefined) parts.push(`confidence ${d.confidence}/10`);
    if (d.at && Math.abs(Date.parse(d.at) - Date.parse(ev.at)) > 60000) {
      parts.push(`as of ${fmtDateTime(d.at)}`);
    }
    out.push(h('div', {class: 'ev-line'}, parts.join(' · ') || 'no value'));
    if (d.note) out.push(h('blockquote', {class: 'ev-note'}, d.note));
  } else if (ev.type === 'goal.created' && d.measure) {
    out.push(h('div', {class: 'ev-line'},
        `from ${fmtAny(d.measure.start, unit)} to ${fmtAny(d.measure.target, unit)}` +
        (d.measure.direction ? ` (${d.measure.direction})` : '')));
  } else if (ev.type === 'goal.decomposed') {
    out.push(h('div', {class: 'ev-line', testid: 'history-split'},
        splitText(d, unit)));
  } else if (ev.type === 'goal.status_changed') {
    out.push(h('div', {class: 'ev-change', testid: 'history-change',
      dataset: {field: 'status'}},
        h('span', {class: 'field'}, 'Status'), ' ',
        h('span', {class: 'from'}, fmtAny(d.from)), ' → ',
        h('span', {class: 'to'}, fmtAny(d.to ?? d.status))));
  }
  // Check-ins and creations are described above; list field edits only.
  const listed = ['goal.checked_in', 'goal.created', 'goal.decomposed']
      .includes(ev.type) ? [] : changes;
  for (const c of listed) {
    if (ev.type === 'goal.status_changed' && c.field === 'status') continue;
    const fieldUnit = String(c.field || '').startsWith('measure.') ? unit : null;
    out.push(c.text ? h('div', {class: 'ev-change'}, c.text) :
      h('div', {class: 'ev-change', testid: 'history-change',
        dataset: {field: c.field || ''}},
      h('span', {class: 'field'}, FIELD_LABEL[c.field] || c.field), ' ',
      h('span', {class: 'from'}, fmtAny(c.from, fieldUnit)), ' → ',
      h('span', {class: 'to'}, fmtAny(c.to, fieldUnit))));
  }
  const reason = d.reason ?? ev.reason;
  if (reason) {
    out.push(h('div', {class: 'ev-reason', testid: 'history-reason'},
        h('span', {class: 'muted'}, 'Why: '), reason));
  }
  return out;
}

/** Check-in points for the chart, by effective time. */
function pointsFrom(events) {
  const pts = [];
  for (const ev of events) {
    // A corrected check-in gives way to its correction.
    if (ev.type !== 'goal.checked_in' || ev.corrected_by) continue;
    const v = ev.data?.value;
    if (v === undefined || v === null) continue;
    const t = Date.parse(ev.data?.at ?? ev.at);
    if (!Number.isNaN(t)) pts.push({t, v: Number(v)});
  }
  return pts.sort((a, b) => a.t - b.t);
}

/**
 * For a goal bound to a metric: the metric's aggregate over the cycle as it
 * stood after each of the cycle's points (the server's value for the goal is
 * the last of these).
 */
function metricSeries(points, aggregate) {
  const out = [];
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  points.forEach((p, i) => {
    const v = Number(p.value);
    sum += v;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    const agg = {last: v, sum, avg: sum / (i + 1), min: lo, max: hi};
    const t = Date.parse(p.ts);
    if (!Number.isNaN(t)) out.push({t, v: agg[aggregate] ?? v});
  });
  return out;
}

/**
 * The chart's points and where they come from: a bound metric's points in
 * the cycle where it has any (as the server grades the goal), else the
 * goal's check-ins.
 */
async function chartPoints(goal, cycle, events, kids) {
  const m = goal.measure;
  if (m?.metric && cycle) {
    try {
      const {start, end} = cycleBounds(cycle);
      const metric = await api.metric(m.metric, new Date(start).toISOString(),
          new Date(end).toISOString());
      const aggregate = m.aggregate || metric.aggregate || 'last';
      if (metric.points?.length) {
        return {points: metricSeries(metric.points, aggregate),
          source: `From the metric ${metric.name || metric.id} ` +
            `(${aggregate} over the cycle)`};
      }
    } catch { /* the check-ins, as the server does without points */ }
  }
  if (goal.split) return splitPoints(goal, kids);
  return {points: pointsFrom(events), source: null};
}

/**
 * A split goal's value over time, as the server computes it now: its start
 * plus each part's value (by time or owners), or its last stage's value (a
 * funnel). A part's value is its latest check-in by effective time (its
 * start before one), or, for a part split in turn, the same sum of its own
 * parts (4 levels down at most). Metrics bound to parts are not followed.
 */
async function splitPoints(goal, kids) {
  const {points} = await valueSeries(goal, kids, 0);
  return {points, source: goal.split === 'funnel' ?
    'Its last stage\'s check-ins' : 'The sum of its parts\' check-ins'};
}

// {start, points} of `goal`'s value; `kids`: its children's goal responses
// when already read.
async function valueSeries(goal, kids, depth) {
  const start = Number(goal.measure?.start ?? 0);
  if (!goal.split || depth > 4) {
    const events = (await api.history(goal.id).catch(() => ({}))).events;
    return {start, points: pointsFrom(events || [])};
  }
  const parts = (kids ?? await goalChildren(goal))
      .filter((k) => k.split_from === goal.id);
  const funnel = goal.split === 'funnel';
  const series = await Promise.all((funnel ? parts.slice(-1) : parts)
      .map((part) => valueSeries(part, null, depth + 1)));
  const valueAt = (one, t) => {
    let v = one.start;
    for (const p of one.points) {
      if (p.t > t) break;
      v = p.v;
    }
    return v;
  };
  const base = funnel ? 0 : start;
  const times = [...new Set(series.flatMap((one) => one.points.map((p) => p.t)))]
      .sort((a, b) => a - b);
  return {start, points: times.map((t) => ({t,
    v: base + series.reduce((sum, one) => sum + valueAt(one, t), 0)}))};
}

/** The goal's parts (of a split) or sub-goals, the first 60. */
async function goalChildren(goal) {
  const ids = (goal.children || []).slice(0, 60);
  return (await Promise.all(ids.map((id) =>
    api.goal(id).catch(() => null)))).filter(Boolean);
}

/**
 * A funnel's conversions: for each part (a stage) after the first, the share
 * of the stage before it that came through, {actual, plan, from}; `actual`
 * is null while the stage before has no value, `plan` the rate the split
 * set (from its goal.decomposed in `events`). Empty for other goals.
 */
function funnelConversions(goal, kids, events) {
  if (goal.split !== 'funnel') return new Map();
  const split = events.findLast((e) => e.type === 'goal.decomposed' &&
      e.data?.by === 'funnel');
  const stages = split?.data?.stages || [];
  const value = (k) => k.current ?? k.measure?.start ?? 0;
  const byId = new Map(kids.map((k) => [k.id, k]));
  const out = new Map();
  (goal.children || []).forEach((id, i) => {
    const k = byId.get(id);
    const before = byId.get(goal.children[i - 1]);
    if (!k || !before) return;
    const base = value(before);
    out.set(id, {actual: base > 0 ? value(k) / base : null,
      plan: stages[i]?.rate ?? null, from: before.title || before.id});
  });
  return out;
}

/**
 * A stage's conversion in words, {actual, plan, from} as funnelConversions
 * gives it: "8% of calls came through, plan 10% (below plan)". To the tenth
 * of a percent where whole ones would hide a difference from the plan
 * (19.6% against 20%).
 */
export function conversionText({actual, plan, from}) {
  const tenths = (x) => Math.round(x * 1000);
  const both = actual !== null && plan !== null;
  const below = both && tenths(actual) < tenths(plan);
  const fine = both && tenths(actual) !== tenths(plan) &&
    fmtPct(actual) === fmtPct(plan);
  const shown = fine ? `${(tenths(actual) / 10).toFixed(1)}%` :
    fmtPct(actual);
  return (actual === null ? `no ${from} yet` :
    `${shown} of ${from} came through`) +
    (plan === null ? '' : `, plan ${fmtPct(plan)}`) +
    (below ? ' (below plan)' : '');
}

/**
 * The goal's parts or sub-goals, each with its value, grade and pacing (a
 * funnel's stages also with their conversion against the plan); null when
 * it has none.
 */
function childrenPanel(goal, kids, events) {
  if (!kids.length) return null;
  const rates = funnelConversions(goal, kids, events);
  const conversion = (k) => {
    const r = rates.get(k.id);
    return r ? h('div', {class: 'conversion', testid: 'stage-conversion',
      dataset: {actual: String(r.actual ?? ''), plan: String(r.plan ?? '')}},
    conversionText(r)) : null;
  };
  return h('section', {class: 'panel', testid: 'goal-children'},
      h('h2', {}, goal.split ? 'Parts' : 'Sub-goals'),
      h('ul', {class: 'plain'}, kids.map((k) => h('li',
          {testid: 'goal-child', dataset: {goal: k.id}},
          h('span', {class: `dot c-${k.color || 'none'}`, 'aria-hidden': 'true'}),
          h('a', {href: goalHref(k.id)}, k.title || k.id),
          h('span', {class: 'meta'}, [
            k.measure ? `${fmtValue(k.current ?? k.measure.start, k.measure.unit)}` +
              ` of ${fmtValue(k.measure.target, k.measure.unit)}` : null,
            `grade ${fmtGrade(k.grade)}`,
            PACING_LABEL[k.pacing?.status] || null,
            k.status !== 'active' ? k.status : null,
          ].filter(Boolean).join(' · ')),
          conversion(k)))));
}

/**
 * A goal's page. `keep`: redraw in place (a live update). Returns where
 * the goal lives and the log position it was read at, for following it
 * live ({unit, cycle, position}), or null when a later rendering took the
 * page.
 */
export async function renderGoalPage(container, id, ctx, {keep = false} = {}) {
  const place = viewSlot(container, {keep});
  const [goal, history] = await Promise.all([api.goal(id), api.history(id)]);
  let cycle = null;
  try {
    cycle = goal.cycle ? await api.cycle(goal.cycle) : null;
  } catch { /* chart without a cycle */ }
  const events = history.events || [];
  const kids = await goalChildren(goal);
  const {points, source} = await chartPoints(goal, cycle, events, kids);
  const children = childrenPanel(goal, kids, events);
  const unit = goal.measure?.unit;
  const reload = () => renderGoalPage(container, id, ctx, {keep: true});
  const m = goal.measure;
  // A split goal's value comes from its parts; a finished one (as on the
  // board) takes no more. Check-ins and corrections alike.
  const takesCheckIns = ctx.can.write && m && !goal.split && !isFinished(goal);
  const header = h('header', {class: 'page-head'},
      h('div', {},
          h('div', {class: 'crumbs'},
              h('a', {href: ctx.boardHref(goal.unit, goal.cycle)}, '← Board'),
              ` · ${KIND_LABEL[goal.kind] || goal.kind} · ${goal.unit} · ` +
              `${goal.cycle || ''}`),
          h('h1', {testid: 'goal-page-title'}, goal.title || goal.id),
          h('div', {class: 'facts'},
              h('span', {}, `Owner ${goal.owner || '—'}`),
              goal.status && goal.status !== 'active' ? h('span',
                  {class: 'chip', testid: 'goal-status'}, goal.status) : null,
              m ? h('span', {testid: 'goal-value-of-target'},
                  `${fmtValue(goal.current ?? m.start, unit)} of ` +
                `${fmtValue(m.target, unit)} (${fmtPct(goal.progress)})`) : null,
              h('span', {class: `grade-chip c-${goal.color || 'none'}`},
                  fmtGrade(goal.grade)),
              goal.pacing?.status ? h('span',
                  {class: `chip p-${goal.pacing.status}`},
                  PACING_LABEL[goal.pacing.status] || goal.pacing.status) : null,
              goal.smart ? h('span', {testid: 'goal-smart'},
                  goal.smart.missing?.length ?
                    `Not SMART: not ${goal.smart.missing.join(', ')}` :
                    'SMART') : null)),
      !ctx.can.write ? null : h('div', {class: 'head-actions'},
          takesCheckIns ? h('button', {class: 'btn primary', type: 'button',
            testid: 'checkin-btn', onclick: () => openCheckIn(goal, reload)},
          'Check in') : null,
          m && m.direction !== 'binary' ? h('button', {class: 'btn',
            type: 'button', testid: 'edit-target-btn',
            onclick: () => openEditTarget(goal, reload)}, 'Change target') :
            null,
          // A goal is split once; by time and owners, increase goals only.
          m?.direction === 'increase' && !goal.split &&
            !(goal.children || []).length ? h('button', {class: 'btn',
            type: 'button', testid: 'split-btn',
            onclick: () => openSplit(goal, ctx.units || [], reload)}, 'Split') :
            null,
          h('button', {class: 'btn', type: 'button', testid: 'edit-goal-btn',
            onclick: () => openEditGoal(goal, reload)}, 'Edit'),
          nextStatuses(goal).length ? h('button', {class: 'btn',
            type: 'button', testid: 'status-btn',
            onclick: () => openStatus(goal, reload)}, 'Status') : null));
  // A check-in not corrected yet may be.
  const correctable = (ev) => takesCheckIns && ev.type === 'goal.checked_in' &&
      !ev.corrected_by;
  const byPosition = new Map(events.map((ev) => [ev.position, ev]));
  const when = (position) => fmtDateTime(byPosition.get(position)?.at);
  const timeline = h('ol', {class: 'timeline', testid: 'history-list'},
      [...events].reverse().map((ev) => h('li', {class: 'event' +
        (ev.corrected_by ? ' corrected' : ''), testid: 'history-event',
      dataset: {type: ev.type, position: String(ev.position)}},
      h('div', {class: 'ev-head'},
          h('span', {class: 'ev-type'}, ev.corrects ? 'Correction' :
            TYPE_LABEL[ev.type] || ev.type),
          h('span', {class: 'ev-who'}, ev.actor || 'unknown'),
          h('time', {datetime: ev.at, class: 'ev-when'}, fmtDateTime(ev.at)),
          correctable(ev) ? h('button', {class: 'btn ghost small',
            type: 'button', testid: 'history-correct',
            onclick: () => openCheckIn(goal, reload, {correcting: ev})},
          'Correct') : null),
      eventDetails(ev, unit),
      ev.corrects ? h('div', {class: 'ev-line muted', testid: 'history-corrects'},
          `Corrects the check-in entered ${when(ev.corrects)}`) : null,
      ev.corrected_by ? h('div', {class: 'ev-line muted',
        testid: 'history-corrected-by'},
      `Corrected by the check-in entered ${when(ev.corrected_by)}`) : null)));
  const placed = place(...[header,
    h('section', {class: 'panel'}, h('h2', {}, 'Progress'),
        progressChart(goal, cycle, points, {source,
          // The chart marks the moment shown: today, or a past one.
          ...(momentShown() === null ? {} :
            {now: momentShown(), nowLabel: 'then'})})),
    children,
    h('section', {class: 'panel'}, h('h2', {}, 'History'),
        events.length ? timeline : h('p', {class: 'muted'}, 'No events.')),
  ].filter(Boolean));
  return placed ? {unit: goal.unit, cycle: goal.cycle,
    position: history.position} : null;
}
