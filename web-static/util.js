// Small DOM and formatting helpers shared by the views.
// Every piece of server text reaches the page through text nodes, never HTML.

/**
 * Creates an element. attrs: `class`, `testid` (data-testid), `text`,
 * `style` (CSS text), `on<event>` handlers, `dataset` object, boolean/other
 * attributes.
 * Children may be nodes, strings (as text), arrays, or null (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    // Through the CSSOM: the Content-Security-Policy refuses style
    // attributes set as markup.
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' && 'value' in node) node.value = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * A `.table` in a box that scrolls sideways when the table is wider than
 * the screen, so that a phone scrolls the table and not the whole page.
 */
export function table(attrs, ...children) {
  return h('div', {class: 'table-scroll'},
      h('table', {...attrs, class: 'table'}, ...children));
}

/**
 * A table's head row of column `labels`; an empty label (a column of
 * buttons) is named "Actions" for screen readers only.
 */
export function tableHead(labels) {
  return h('thead', {}, h('tr', {}, labels.map((label) => h('th',
      {scope: 'col'}, label || h('span', {class: 'visually-hidden'},
          'Actions')))));
}

/** SVG element with attributes (no text from the server goes in attributes
 * that could execute). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/**
 * A view's rendering whose reads may come back after the page moved on:
 * shows "Loading…" now (unless `keep`) and returns `place(...nodes)`, which
 * fills the container only if no later rendering (of any view: route()
 * starts one too, see newRendering) took it meanwhile, and says whether it
 * did.
 */
export function viewSlot(container, {keep = false} = {}) {
  const ticket = newRendering(container);
  // A control focused in the view, or the one an open dialog will give the
  // focus back to, is focused again in the new rendering (a keyboard user
  // keeps their place when a save re-reads the page).
  const active = document.activeElement;
  const opener = active?.closest?.('dialog[open]')?.opener ?? active;
  const focused = container.contains(opener) ? focusKey(opener) : null;
  // `keep`: the page stays until the new one is ready (a live redraw keeps
  // its scroll position instead of flashing "Loading…").
  if (!keep) clear(container).append(h('p', {class: 'muted'}, 'Loading…'));
  return (...nodes) => {
    if (container.dataset.rendering !== ticket) return false;
    clear(container).append(...nodes);
    refocus(container, focused);
    return true;
  };
}

/**
 * What names a control across renderings: its data-testid and, where
 * several share it (a board's buttons), its aria-label. Null for elements
 * without a testid.
 */
export function focusKey(el) {
  const testid = el?.dataset?.testid;
  return testid ? {testid, label: el.getAttribute('aria-label')} : null;
}

/**
 * Focuses the control `key` names inside `root`, unless the focus went
 * somewhere meanwhile (it is on the page's body when its element left).
 */
export function refocus(root, key) {
  if (!key) return;
  const active = document.activeElement;
  if (active && active !== document.body) return;
  const label = key.label === null ? '' :
    `[aria-label="${CSS.escape(key.label)}"]`;
  root.querySelector(`[data-testid="${CSS.escape(key.testid)}"]${label}`)
      ?.focus();
}

/** Marks `container` as taken by a new rendering; older ones stand down. */
export function newRendering(container) {
  const ticket = String(Number(container.dataset.rendering || 0) + 1);
  container.dataset.rendering = ticket;
  return ticket;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const numberFormat = new Intl.NumberFormat(undefined, {maximumFractionDigits: 2});
const compactFormat = new Intl.NumberFormat(undefined, {
  notation: 'compact', maximumFractionDigits: 2});

/** A number for people: 1,234.5 or 5.6M; em dash for missing. */
export function fmtNum(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  const v = Number(n);
  return Math.abs(v) >= 1e6 ? compactFormat.format(v) : numberFormat.format(v);
}

/** A value with its measure unit: "$150", "95 %", "12 calls". */
export function fmtValue(n, unit) {
  const text = fmtNum(n);
  if (!unit || text === '—') return text;
  if (unit === 'USD') return (Number(n) < 0 ? '-$' : '$') + fmtNum(Math.abs(n));
  if (unit === '%') return text + '%';
  return `${text} ${unit}`;
}

/** Any field's value as text: numbers with the unit, '—' for none. */
export function fmtAny(v, unit) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return fmtValue(v, unit);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A fraction 0..1 as a whole percent. */
export function fmtPct(f) {
  if (f === null || f === undefined) return '—';
  return `${Math.round(Number(f) * 100)}%`;
}

export function fmtGrade(g) {
  if (g === null || g === undefined) return '—';
  return Number(g).toFixed(2);
}

/** "3 d ago", "just now", from an RFC 3339 time. */
export function fmtAgo(iso, now = Date.now()) {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.round(m / 60);
  if (hrs < 36) return `${hrs} h ago`;
  return `${Math.round(hrs / 24)} d ago`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit',
  minute: '2-digit', second: '2-digit'});
const dateFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC'});

export function fmtDateTime(iso) {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  return Number.isNaN(t) ? '—' : dateTimeFormat.format(new Date(t));
}

const pad2 = (n) => String(n).padStart(2, '0');

/** `d`'s date in this browser's time zone, as YYYY-MM-DD (a date input). */
export function localDay(d) {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** `d` in this browser's time zone to the second (a datetime-local input). */
export function localMoment(d) {
  return `${localDay(d)}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:` +
    pad2(d.getSeconds());
}

export function fmtDate(isoDate) {
  const t = Date.parse(isoDate);
  return Number.isNaN(t) ? String(isoDate ?? '—') : dateFormat.format(new Date(t));
}

/** Milliseconds of a cycle's start (00:00 UTC) and end (24:00 UTC). */
export function cycleBounds(cycle) {
  const start = Date.parse(`${cycle.start}T00:00:00.000Z`);
  const end = Date.parse(`${cycle.end}T00:00:00.000Z`) + 86400000;
  return {start, end};
}

export const PACING_LABEL = {
  ahead: 'Ahead', on_track: 'On track', behind: 'Behind', done: 'Done'};

/** Names of a goal's fields as histories, diffs and retros show them. */
export const FIELD_LABEL = {'measure.target': 'Target',
  'measure.start': 'Start', 'measure.stretch': 'Stretch', 'current': 'Value',
  'grade': 'Grade', 'confidence': 'Confidence', 'status': 'Status',
  'owner': 'Owner', 'title': 'Title', 'weight': 'Weight', 'parent': 'Parent',
  'split': 'Split'};

/**
 * A goal the server marks stale (no check-in or metric point in 7 days) that
 * was made less than 7 days before `now` and has had no check-in yet is new,
 * not neglected: 'new'; the rest that are stale: 'stale'; else null.
 */
export function staleness(goal, now = Date.now()) {
  if (!goal.stale) return null;
  const made = Date.parse(goal.created_at);
  return !goal.last_check_in && !Number.isNaN(made) &&
    now - made < 7 * 86400000 ? 'new' : 'stale';
}

/** Achieved, missed, dropped or archived: it takes no more check-ins. */
export function isFinished(goal) {
  return ['dropped', 'archived', 'achieved', 'missed'].includes(goal.status);
}

export const KIND_LABEL = {
  objective: 'Objective', key_result: 'Key result', smart: 'SMART goal',
  kpi: 'KPI', bsc_objective: 'Scorecard', bhag: 'Vision',
  milestone: 'Milestone', initiative: 'Initiative'};

/**
 * The SMART properties a goal lacks, where the lack matters on a board: a
 * SMART goal lacking any, or a goal with neither a measure nor sub-goals
 * to grade it (an objective is measured through its key results). Empty
 * otherwise.
 */
export function vagueness(goal) {
  const missing = goal.smart?.missing || [];
  const unmeasured = !goal.measure && !(goal.children || []).length;
  return goal.kind === 'smart' || unmeasured ? missing : [];
}

/** Walks a goal tree (children under children_detail), depth first. */
export function* walkGoals(goals, depth = 0, parent = null) {
  for (const goal of goals || []) {
    yield {goal, depth, parent};
    yield* walkGoals(goal.children_detail, depth + 1, goal);
  }
}

/** Reads `#/view/arg?k=v` into {view, arg, params}. */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const [view = '', ...rest] = path.split('/');
  return {view: view || 'board', arg: rest.map(decodeURIComponent).join('/'),
    params: new URLSearchParams(query)};
}

// The moment the pages show when not now: an `as_of` (an RFC 3339 time or
// an event position) from the page's address, '' for now. Set by the
// router; read by the API client (every state read takes it) and by
// hashFor, so that links stay at that moment.
let asOfShown = '';
export function setViewAsOf(asOf) {
  asOfShown = asOf || '';
}
export function viewAsOf() {
  return asOfShown;
}
/** The moment shown as a time (ms), or null: now, or an event position. */
export function momentShown() {
  const t = Date.parse(asOfShown);
  return Number.isNaN(t) ? null : t;
}

/**
 * `#/view/arg?params`. Links keep the moment shown (viewAsOf) unless
 * `params.as_of` says otherwise (null: now).
 */
export function hashFor(view, params = {}, arg = '') {
  const q = new URLSearchParams();
  const all = 'as_of' in params ? params : {...params, as_of: asOfShown};
  for (const [k, v] of Object.entries(all)) if (v) q.set(k, v);
  const qs = q.toString();
  return `#/${view}${arg ? '/' + encodeURIComponent(arg) : ''}${qs ? '?' + qs : ''}`;
}

/** A goal's page, at the moment shown. */
export function goalHref(id) {
  return hashFor('goal', {}, id);
}
