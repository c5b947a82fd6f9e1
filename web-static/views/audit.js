// The audit trail: every change the token may see, newest first, across
// the organisation: who changed which goal, when, from what to what and
// why; check-ins, status changes, units, cycles and tokens too. Read from
// the event log itself (GET /events), a window at a time; nothing in it is
// ever overwritten.
import {h, viewSlot, clear, fmtDateTime, goalHref, localMoment}
  from '../util.js';
import {api} from '../api.js';
import {eventDetails, TYPE_LABEL} from './goal.js';

const WINDOW = 200;  // events read per page
// A filter that leaves fewer than this reads older pages by itself, up to
// AUTO_PAGES of them (edits are rare among check-ins).
const ENOUGH = 20;
const AUTO_PAGES = 10;

const KINDS = [
  ['all', 'Everything'],
  ['edits', 'Targets and other edits', (e) => e.type === 'goal.edited'],
  ['status', 'Status changes', (e) => e.type === 'goal.status_changed'],
  ['check-ins', 'Check-ins', (e) => e.type === 'goal.checked_in'],
  ['structure', 'Goals made or split', (e) => e.type === 'goal.created' ||
    e.type === 'goal.decomposed'],
  ['org', 'Units, cycles, tokens, metrics', (e) => !e.type.startsWith('goal.')],
];

const OTHER_LABEL = {
  'unit.created': 'Unit created', 'unit.edited': 'Unit edited',
  'cycle.created': 'Cycle created', 'cycle.closed': 'Cycle closed',
  'metric.defined': 'Metric defined', 'metric.recorded': 'Metric values',
  'retro.noted': 'Retro note', 'token.created': 'Token created',
  'token.revoked': 'Token revoked',
};

// "12 points from crm": a metric.recorded event's data in words.
const pointsText = (d) => `${(d.points || []).length} points` +
  (d.source ? ` from ${d.source}` : '');

// What an event other than a goal's says, in words (never a token's hash).
function otherDetails(e) {
  const d = e.data || {};
  const line = (text) => h('div', {class: 'ev-line'}, text);
  switch (e.type) {
    case 'unit.created':
      return [line(`${d.name || d.id} (${d.kind}` +
        (d.parent ? `, under ${d.parent})` : ')'))];
    case 'cycle.created':
      return [line(`${d.name || d.id}: ${d.start} – ${d.end}`)];
    case 'token.created':
      return [line(`${d.name}: ${d.role}` + (d.unit ? `, sees ${d.unit}` : ''))];
    case 'metric.recorded':
      return [line(pointsText(d))];
    case 'retro.noted':
      return [line(`${d.kind || 'note'}: ${d.text || ''}`)];
    default:
      return eventDetails(e, null);
  }
}

const streamId = (stream, prefix) =>
  stream.startsWith(`${prefix}-`) ? stream.slice(prefix.length + 1) : '';

// ---- CSV export ------------------------------------------------------------

const CSV_COLUMNS = ['position', 'at', 'actor', 'change', 'stream', 'title',
  'field', 'from', 'to', 'reason', 'note'];

// One cell: quoted when it holds a comma, quote or line break; text that a
// spreadsheet would take for a formula (=, +, -, @, tab, CR first) gets a
// leading apostrophe; numbers stay numbers.
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

// The rows of one event: a goal edit gives one per field changed, others
// one; never a token's hash.
function csvRows(e, title) {
  const d = e.data || {};
  const base = {position: e.position, at: e.at, actor: e.actor || '',
    change: TYPE_LABEL[e.type] || OTHER_LABEL[e.type] || e.type,
    stream: e.stream, title: title || ''};
  switch (e.type) {
    case 'goal.edited':
      return Object.entries(d.changes || {}).map(([field, c]) => ({...base,
        field, from: c?.from, to: c?.to, reason: d.reason}));
    case 'goal.status_changed':
      return [{...base, field: 'status', from: d.from, to: d.to,
        reason: d.reason}];
    case 'goal.checked_in':
      return [{...base, field: 'value', to: d.value, note: [
        d.confidence !== undefined ? `confidence ${d.confidence}/10` : '',
        d.at ? `true as of ${d.at}` : '',
        d.correction_of ? `corrects ${d.correction_of}` : '',
        d.note || ''].filter(Boolean).join('; ')}];
    case 'token.created':
      return [{...base, field: 'role', to: d.role,
        note: d.unit ? `sees ${d.unit}` : ''}];
    case 'metric.recorded':
      return [{...base, note: pointsText(d)}];
    default: {
      const {secret_hash: _hidden, ...rest} = d;
      return [{...base, note: JSON.stringify(rest)}];
    }
  }
}

export function auditCsv(events, titles) {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of events) {
    for (const row of csvRows(e, titles.get(streamId(e.stream, 'goal')))) {
      lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
  const a = h('a', {href: url, download: name});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** `asOf`: an RFC 3339 time the list starts from ("up to"), '' for now. */
export async function renderAudit(container, asOf = '') {
  const place = viewSlot(container);
  const startAt = Date.parse(asOf);
  const until = h('input', {type: 'datetime-local', step: 1,
    testid: 'audit-until', 'aria-label': 'Changes up to (empty: now)',
    title: 'Changes up to this moment; empty for now',
    value: Number.isNaN(startAt) ? '' : localMoment(new Date(startAt))});
  const kind = h('select', {testid: 'audit-kind',
    'aria-label': 'Which changes'},
  KINDS.map(([v, label]) => h('option', {value: v}, label)));
  const who = h('input', {type: 'search', testid: 'audit-who',
    placeholder: 'who (token name)', 'aria-label': 'Who'});
  const list = h('ol', {class: 'timeline', testid: 'audit-list'});
  const older = h('button', {class: 'btn', type: 'button',
    testid: 'audit-older'}, 'Older');
  const status = h('p', {class: 'muted', testid: 'audit-status'});
  const exportCsv = h('button', {class: 'btn', type: 'button',
    testid: 'audit-csv', title: 'The changes shown, one row per field ' +
      'changed'}, 'Download CSV');
  const titles = new Map();  // goal id -> title
  const events = [];         // newest first
  let before = 0;            // the next window ends at this position
  let upTo = '';             // the moment the list starts from ('' for now)

  const matching = () => {
    const test = KINDS.find(([v]) => v === kind.value)[2];
    const name = who.value.trim().toLowerCase();
    return events.filter((e) => (!test || test(e)) &&
        (!name || String(e.actor).toLowerCase().includes(name)));
  };
  const show = () => {
    const shown = matching();
    clear(list).append(...shown.map((e) => {
      const goal = streamId(e.stream, 'goal');
      return h('li', {class: 'event', testid: 'audit-event',
        dataset: {type: e.type, position: String(e.position)}},
      h('div', {class: 'ev-head'},
          h('span', {class: 'ev-type'},
              TYPE_LABEL[e.type] || OTHER_LABEL[e.type] || e.type),
          goal ? h('a', {href: goalHref(goal),
            testid: 'audit-goal'}, titles.get(goal) || goal) : null,
          h('span', {class: 'ev-who'}, e.actor || 'unknown'),
          h('time', {datetime: e.at, class: 'ev-when'}, fmtDateTime(e.at))),
      goal ? eventDetails(e, null) : otherDetails(e));
    }));
    status.textContent = `${shown.length} of the ${events.length} latest ` +
      'changes you may see' + (upTo ? ` up to ${fmtDateTime(upTo)}` : '') +
      (before > 0 ? '' : ' (all of them)');
    older.hidden = !(before > 0);
  };

  let reading = 0;  // bumped by a new starting point: older reads stand down
  // One window at a time: a read asked for while one is running (Older
  // clicked while a filter reads by itself) reads the window after it. A
  // read asked for before a new starting point stands down.
  let queue = Promise.resolve();
  const readWindow = () => {
    const mine = reading;
    const next = queue.then(() => readNext(mine));
    queue = next.catch(() => {});
    return next;
  };
  const readNext = async (mine) => {
    if (mine !== reading) return;
    const from = Math.max(0, before - WINDOW);
    const page = await api.events({from, limit: WINDOW});
    const got = (page.events || []).filter((e) => e.position <= before);
    // Goal titles as they are now, for the goals this window names.
    const missing = [...new Set(got.map((e) => streamId(e.stream, 'goal'))
        .filter((id) => id && !titles.has(id)))].slice(0, 100);
    await Promise.all(missing.map(async (id) => {
      try {
        titles.set(id, (await api.goal(id)).title);
      } catch { /* out of scope or gone: the id is shown */ }
    }));
    if (mine !== reading) return;
    events.push(...got.reverse());
    before = from;
  };

  // Reads older pages while the filter shows too few (and there are any).
  let filling = null;
  const fill = async () => {
    for (let i = 0; i < AUTO_PAGES && before > 0 && matching().length < ENOUGH;
      ++i) {
      await readWindow();
    }
  };
  const refilter = () => {
    show();
    if (filling) return;
    filling = fill().catch(() => {}).finally(() => {
      filling = null;
      show();
    });
  };

  // From the head, or from the last event at or before the moment picked.
  // False when a later pick took over meanwhile.
  let picks = 0;
  const restart = async () => {
    const pick = ++picks;
    const t = until.value ? new Date(until.value).getTime() : NaN;
    const at = Number.isNaN(t) ? '' : new Date(t).toISOString();
    const head = at ? await api.positionAt(at) :
      (await api.events({from: 0, limit: 1})).head;
    if (pick !== picks) return false;
    ++reading;
    upTo = at;
    events.length = 0;
    before = head;
    await readWindow();
    return pick === picks;
  };
  await restart();
  exportCsv.addEventListener('click', () => {
    const shown = matching();
    const newest = shown[0]?.position ?? 0;
    const oldest = shown[shown.length - 1]?.position ?? 0;
    download(`cairn-audit-${oldest}-${newest}.csv`, auditCsv(shown, titles));
  });
  until.addEventListener('change', async () => {
    if (await restart()) show();
  });
  kind.addEventListener('change', refilter);
  who.addEventListener('input', refilter);
  older.addEventListener('click', async () => {
    older.disabled = true;
    try {
      await readWindow();
    } finally {
      older.disabled = false;
    }
    show();
  });
  const placed = place(
      h('header', {class: 'page-head'},
          h('div', {}, h('h1', {}, 'Audit trail'),
              h('p', {class: 'muted'}, 'Every change, newest first, as the ' +
                'log holds it: who, when, from what to what, and why. ' +
                'Nothing here is ever overwritten.')),
          h('div', {class: 'head-actions'}, kind, who, until, exportCsv)),
      h('section', {class: 'panel'}, status, list, older));
  if (placed) show();
}
