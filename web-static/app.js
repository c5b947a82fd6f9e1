// Cairn board: the shell. Token entry, unit/cycle pickers, hash routing,
// theme, and the live board (REST snapshot + WebSocket updates).
import {h, clear, parseHash, hashFor, newRendering, walkGoals, setViewAsOf,
  viewAsOf, momentShown, fmtDateTime, focusKey, refocus, goalHref}
  from './util.js';
import {api, getToken, setToken, clearToken, onUnauthorized, request} from './api.js';
import {LiveClient, LiveState} from './live.js';
import {mountBoard} from './views/board.js';
import {openCheckIn, openEditTarget, openNewCycle, openNewGoal, openNewUnit}
  from './views/dialogs.js';
import {renderGoalPage} from './views/goal.js';
import {renderTree} from './views/tree.js';
import {renderScorecard} from './views/scorecard.js';
import {renderReplay} from './views/replay.js';
import {renderRetro} from './views/retro.js';
import {renderTokens} from './views/tokens.js';
import {renderAudit} from './views/audit.js';
import {renderMetrics} from './views/metrics.js';

const $ = (sel) => document.querySelector(sel);
const UNIT_KEY = 'cairn.unit';
const CYCLE_KEY = 'cairn.cycle';
const THEME_KEY = 'cairn.theme';
const REFRESH_MS = 5 * 60 * 1000;

// `listsAt`: the moment (viewAsOf) `units` and `cycles` were read at.
// `routes` counts the routes taken (one waiting for the lists stands down
// when another started meanwhile).
const state = {units: [], cycles: [], listsAt: '', unit: '', cycle: '',
  cleanup: null, live: null, me: null, asOf: '', routes: 0};
// Views that read now whatever moment the address asks for: the tokens;
// the audit trail (it lists the changes up to the moment asked for) and
// the replay (it starts there) take it as their own starting point.
const NOW_VIEWS = new Set(['audit', 'tokens', 'replay']);

// What the signed-in token may do (GET /me): viewers read, editors also
// write goals, check-ins and notes, admins also units, cycles and tokens.
// Buttons for what the token may not do are not shown; the server decides
// either way.
function abilities(me) {
  const role = me?.role || 'editor';  // unknown: offer, the server refuses
  return {write: role !== 'viewer', admin: role === 'admin'};
}

function showWho(me) {
  const el = $('#who');
  el.hidden = !me;
  el.textContent = me ? `${me.name} · ${me.role}` +
    (me.unit ? ` · ${me.unit}` : '') : '';
}

// ---- Theme -----------------------------------------------------------------

const THEMES = ['auto', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const btn = $('#theme-toggle');
  if (btn) {
    btn.textContent = {auto: '◐ Auto', light: '☀ Light', dark: '☾ Dark'}[theme];
    btn.setAttribute('aria-label', `Theme: ${theme}. Change theme`);
  }
}
function setupTheme() {
  let theme = localStorage.getItem(THEME_KEY) || 'auto';
  applyTheme(theme);
  $('#theme-toggle').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    localStorage.setItem(THEME_KEY, theme);
    applyTheme(theme);
  });
}

// ---- Live indicator --------------------------------------------------------

const LIVE_TEXT = {
  [LiveState.CONNECTING]: 'Connecting…',
  [LiveState.CATCHING_UP]: 'Catching up…',
  [LiveState.LIVE]: 'Live',
  [LiveState.RECONNECTING]: 'Reconnecting…',
  [LiveState.STOPPED]: 'Offline',
};
function showLive(liveState, info = {}) {
  const el = $('#live-status');
  el.dataset.state = liveState;
  el.hidden = liveState === LiveState.STOPPED;
  $('#live-text').textContent = LIVE_TEXT[liveState] || liveState;
  el.title = info.position !== null && info.position !== undefined ?
    `Position ${info.position}${info.epoch ? ` · epoch ${info.epoch}` : ''}` +
    (info.reconnects ? ` · ${info.reconnects} reconnects` : '') : '';
  if (info.position !== null && info.position !== undefined) {
    el.dataset.position = String(info.position);
  }
}

// ---- Token entry -----------------------------------------------------------

function showTokenScreen(message = '') {
  stopView();
  state.started = false;
  state.me = null;
  showWho(null);
  document.body.classList.add('signed-out');
  const input = h('input', {type: 'password', id: 'token-input',
    testid: 'token-input', autocomplete: 'current-password', required: true,
    spellcheck: 'false', placeholder: 'Paste your access token'});
  const error = h('div', {class: 'form-error', role: 'alert',
    testid: 'token-error'}, message);
  const submit = h('button', {class: 'btn primary', type: 'submit',
    testid: 'token-submit'}, 'Sign in');
  const form = h('form', {class: 'token-card panel', testid: 'token-form'},
      h('h1', {class: 'brand large'}, h('span', {class: 'logo',
        'aria-hidden': 'true'}, '▲'), 'Cairn'),
      h('p', {class: 'muted'}, 'Goals, check-ins and progress for your teams. ' +
        'Enter the access token your administrator gave you; this browser ' +
        'keeps it until you sign out.'),
      h('div', {class: 'field'}, h('label', {for: 'token-input'}, 'Access token'),
          input),
      error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    submit.disabled = true;
    error.textContent = '';
    try {
      await request('GET', '/units', {token, quiet: true});
      setToken(token);
      await start();
    } catch (err) {
      error.textContent = err.status === 401 ?
        'This token is not valid.' : `Could not sign in: ${err.message}`;
      submit.disabled = false;
    }
  });
  clear($('#view')).append(h('div', {class: 'token-screen'}, form));
  input.focus();
}

// ---- Pickers and routing ---------------------------------------------------

function pickDefaultCycle(cycles) {
  const today = new Date().toISOString().slice(0, 10);
  const current = cycles.filter((c) => c.start <= today && today <= c.end);
  const rank = {quarter: 0, half: 1, month: 2, year: 3};
  current.sort((a, b) => (rank[a.kind] ?? 9) - (rank[b.kind] ?? 9));
  return (current[0] || cycles[cycles.length - 1] || {}).id || '';
}

// A first visit opens the top of the organisation the token sees: the
// company's board, or for a token scoped to a unit, that unit's.
function pickDefaultUnit(units) {
  const top = units.find((u) => u.kind === 'company') ||
      units.find((u) => !u.parent || !units.some((p) => p.id === u.parent)) ||
      units[0];
  return top ? top.id : '';
}

function unitLabel(u, units) {
  let depth = 0;
  let p = u.parent;
  while (p && depth < 8) {
    depth++;
    p = units.find((x) => x.id === p)?.parent;
  }
  return `${'\u00a0\u00a0'.repeat(depth)}${u.name || u.id}`;
}

function fillPickers() {
  const unitSel = $('#unit-select');
  const cycleSel = $('#cycle-select');
  // A unit or cycle the address names that the lists do not have (one
  // made after the moment shown, or none) is listed as what it is.
  const note = viewAsOf() ? 'not there then' : 'not found';
  const missing = (list, id) => id && !list.some((x) => x.id === id) ?
    [h('option', {value: id}, `${id} (${note})`)] : [];
  clear(unitSel).append(...orderUnits(state.units).map((u) =>
    h('option', {value: u.id}, unitLabel(u, state.units))),
  ...missing(state.units, state.unit));
  clear(cycleSel).append(...state.cycles.map((c) =>
    h('option', {value: c.id}, c.name || c.id)),
  ...missing(state.cycles, state.cycle));
  unitSel.value = state.unit;
  cycleSel.value = state.cycle;
}

function orderUnits(units) {
  const out = [];
  const visit = (parent, depth) => {
    for (const u of units.filter((x) => (x.parent || null) === parent)) {
      out.push(u);
      if (depth < 16) visit(u.id, depth + 1);
    }
  };
  visit(null, 0);
  for (const u of units) if (!out.includes(u)) out.push(u);
  return out;
}

// The units as the pickers list them: in tree order, indented.
function unitOptions() {
  return orderUnits(state.units).map((u) =>
    ({...u, label: unitLabel(u, state.units)}));
}

function ctx() {
  const unit = state.units.find((u) => u.id === state.unit);
  const cycle = state.cycles.find((c) => c.id === state.cycle);
  return {
    cycleName: cycle?.name || state.cycle,
    cycleInfo: cycle || null,
    unit: state.unit, cycle: state.cycle, units: state.units,
    cycles: state.cycles,
    // A past moment is shown as it was: nothing can be changed there.
    can: viewAsOf() ? {write: false, admin: false} : abilities(state.me),
    asOf: state.asOf,
    unitName: unit?.name || state.unit,
    unitOptions,
    newUnit: () => openNewUnit({units: unitOptions(), under: state.unit},
        (made) => orgChanged({unit: made?.id}).catch(() => {})),
    orgChanged: (made) => orgChanged(made).catch(() => {}),
    newCycle: () => openNewCycle({cycles: state.cycles},
        (made) => orgChanged({cycle: made?.id}).catch(() => {})),
    boardHref: (u, c) => hashFor('board', {unit: u, cycle: c}),
    viewHref: (view, arg = '') =>
      hashFor(view, {unit: state.unit, cycle: state.cycle}, arg),
  };
}

// A unit or cycle was made or closed in this page: read both lists again,
// open a new cycle, and the first unit when there was none; then show the
// view again.
async function orgChanged({unit, cycle}) {
  await readLists();
  if (unit && !state.units.some((u) => u.id === state.unit)) state.unit = unit;
  if (cycle) state.cycle = cycle;
  await route();
}

// Reads the units and cycles as they are at the moment shown (viewAsOf),
// which the pickers and the views list. A read for a moment no longer
// shown (the address changed meanwhile) is left unused.
async function readLists() {
  const moment = viewAsOf();
  const [units, cycles] = await Promise.all([api.units(), api.cycles()]);
  if (viewAsOf() !== moment) return;
  cycles.sort((a, b) => String(a.start).localeCompare(String(b.start)) ||
      String(a.id).localeCompare(String(b.id)));
  [state.units, state.cycles, state.listsAt] = [units, cycles, moment];
}

function stopView() {
  if (state.live) state.live.stop();
  state.live = null;
  if (typeof state.cleanup === 'function') state.cleanup();
  state.cleanup = null;
  showLive(LiveState.STOPPED);
}

async function route() {
  if (!getToken()) {
    showTokenScreen();
    return;
  }
  stopView();
  const mine = ++state.routes;
  const {view, arg, params} = parseHash();
  if (params.get('unit')) state.unit = params.get('unit');
  if (params.get('cycle')) state.cycle = params.get('cycle');
  state.asOf = params.get('as_of') || '';
  setViewAsOf(NOW_VIEWS.has(view) ? '' : state.asOf);
  if (state.listsAt !== viewAsOf()) {
    // Units and cycles as they were then; on failure the lists there are.
    // An address changed meanwhile has its own route.
    await readLists().catch(() => {});
    if (mine !== state.routes) return;
  }
  showAsOf(view, arg);
  showPlace(view);
  const container = $('#view');
  container.dataset.view = view;
  newRendering(container);  // a rendering still reading stands down
  try {
    if (view === 'goal') {
      const shown = await renderGoalPage(container, arg, ctx());
      if (shown) {
        // The menu and pickers take the goal's unit and cycle: "Board"
        // then opens the board the goal is on.
        if (state.units.some((u) => u.id === shown.unit)) {
          state.unit = shown.unit;
        }
        if (state.cycles.some((c) => c.id === shown.cycle)) {
          state.cycle = shown.cycle;
        }
        showPlace(view);
        if (!viewAsOf()) followGoal(container, arg, shown);
      }
    }
    else if (view === 'tree') await renderTree(container, ctx());
    else if (view === 'scorecard') await renderScorecard(container, ctx());
    else if (view === 'replay') state.cleanup = await renderReplay(container, ctx());
    else if (view === 'retro') await renderRetro(container, ctx());
    else if (view === 'tokens') await renderTokens(container, ctx());
    else if (view === 'audit') await renderAudit(container, state.asOf);
    else if (view === 'metrics') await renderMetrics(container, ctx(), arg);
    else await renderBoard(container);
  } catch (e) {
    if (e.status === 401) return;
    clear(container).append(h('div', {class: 'panel error-panel',
      testid: 'view-error'}, h('h2', {}, 'Something went wrong'),
    h('p', {}, e.message || String(e))));
  }
}

// The unit and cycle picked (kept per browser) in the pickers and the
// menu's links, `view` marked as the current one.
function showPlace(view) {
  localStorage.setItem(UNIT_KEY, state.unit);
  localStorage.setItem(CYCLE_KEY, state.cycle);
  fillPickers();
  $('#nav [data-view="tokens"]').hidden = !abilities(state.me).admin;
  for (const a of document.querySelectorAll('#nav a')) {
    const here = a.dataset.view === view;
    a.href = hashFor(a.dataset.view, {unit: state.unit, cycle: state.cycle,
      as_of: a.dataset.view === 'tokens' ? null : state.asOf});
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// Says, above the view, that the pages show a past moment (viewAsOf), with
// the way back to now.
function showAsOf(view, arg) {
  const banner = $('#as-of-banner');
  const asOf = viewAsOf();
  banner.hidden = !asOf;
  if (!asOf) return;
  const t = momentShown();
  clear(banner).append(
      h('span', {}, 'As it was at ', h('strong', {testid: 'as-of-moment'},
          t === null ? `event ${asOf}` : fmtDateTime(t)),
      '. Nothing can be changed here.'),
      h('a', {class: 'btn', testid: 'as-of-now', href: hashFor(view,
          {unit: state.unit, cycle: state.cycle, as_of: null}, arg)},
      'Back to now'));
}

// A goal's page follows its goal live: the board subscription of the
// goal's unit carries the goal's events (and its parts' roll-ups); one
// that touches it redraws the page in place.
function followGoal(container, id, {unit, cycle, position}) {
  // One redraw at a time; events during one ask for one more after it (no
  // timer: a page in the background gets its timers slowed to a second).
  let drawing = false;
  let again = false;
  const redraw = async () => {
    if (drawing) {
      again = true;
      return;
    }
    drawing = true;
    do {
      again = false;
      await renderGoalPage(container, id, ctx(), {keep: true}).catch(() => {});
    } while (again && state.live === live);
    drawing = false;
  };
  const live = new LiveClient({
    token: getToken(), unit, cycle, depth: 0, from: position,
    onState: showLive,
    onRevoked: () => {
      clearToken();
      showTokenScreen('Your token was revoked. Sign in with another.');
    },
    onSnapshot: () => {},
    onEvent: (msg) => {
      const touched = msg.event?.stream === `goal-${id}` ||
        (msg.goals || []).some((g) => g.id === id);
      if (touched) redraw();
    },
  });
  state.live = live;
  live.start();
}

// ---- The live board --------------------------------------------------------

// The goals proposed for this unit's editors to agree to (a manager and an
// employee agreeing a goal), in `el` above the board, each with its page
// and an "Approve" button; nothing when there are none or the token may
// not write. Returns a function that reads them again.
function approvalsPanel(el, c) {
  let failed = '';  // why the last approval was refused
  const read = async () => {
    if (!c.can.write) return;
    let goals;
    try {
      goals = await api.awaitingApproval(state.unit);
    } catch {
      return;  // the next read retries
    }
    if (goals.some((g) => !state.units.some((u) => u.id === g.unit))) {
      // A unit made since the lists were read (a new hire's): read them
      // again, for its name here and in the picker.
      await readLists().catch(() => {});
      fillPickers();
    }
    const unitName = (id) => state.units.find((u) => u.id === id)?.name || id;
    const cycleName = (id) => state.cycles.find((x) => x.id === id)?.name || id;
    const focused = el.contains(document.activeElement) ?
      focusKey(document.activeElement) : null;
    el.hidden = !goals.length;
    clear(el).append(goals.length ? h('section', {class: 'panel approvals',
      testid: 'approvals', 'aria-label': 'Waiting for approval'},
    h('h2', {}, `Waiting for approval (${goals.length})`),
    h('div', {class: 'form-error', role: 'alert', testid: 'approve-error'},
        failed),
    h('ul', {class: 'plain'}, goals.map((g) => h('li',
        {testid: 'approval', dataset: {goal: g.id}},
        h('a', {href: goalHref(g.id)}, g.title || g.id),
        h('span', {class: 'meta'}, [g.owner, unitName(g.unit),
          cycleName(g.cycle)].filter(Boolean).join(' · ')),
        h('button', {class: 'btn primary', type: 'button',
          testid: 'approve-btn', 'aria-label': `Approve ${g.title}`,
          onclick: async (e) => {
            e.currentTarget.disabled = true;
            failed = '';
            try {
              await api.setStatus(g.id, {status: 'active'});
            } catch (err) {
              failed = `Could not approve ${g.title}: ${err.message}`;
            }
            await read();
          }}, 'Approve'))))) : []);
    refocus(el, focused);
  };
  return read;
}

async function renderBoard(container) {
  const c = ctx();
  if (!state.unit || !state.cycle) {
    const button = (testid, label, onclick) => c.can.admin ? h('button',
        {class: 'btn primary', type: 'button', testid, onclick}, label) : null;
    clear(container).append(h('div', {class: 'panel', testid: 'board-empty'},
        h('h2', {}, 'Nothing to show yet'),
        h('p', {class: 'muted'}, 'A board shows the goals of a unit of the ' +
          'organisation for a cycle. Make ' + (!state.unit && !state.cycle ?
          'the top unit (the company) and a cycle (a year or a quarter) ' :
          !state.unit ? 'the top unit (the company) ' : 'a cycle ') +
          (c.can.admin ? 'to start.' : 'to start: ask an admin, whose ' +
            'token can.')),
        h('div', {class: 'head-actions'},
            !state.unit ? button('empty-new-unit', 'New unit', c.newUnit) : null,
            !state.cycle ? button('empty-new-cycle', 'New cycle', c.newCycle) :
              null)));
    return;
  }
  const cycle = state.cycles.find((x) => x.id === state.cycle);
  const boardEl = h('div', {class: 'board', testid: 'board'});
  const approvalsEl = h('div', {hidden: true});
  // A new goal goes on this board, under one of its goals or at the top;
  // it shows through the live update like anyone else's.
  const newGoal = async () => {
    const [fresh, metrics] = await Promise.all([
      api.board(state.unit, state.cycle), api.metrics().catch(() => [])]);
    const goals = [...walkGoals(fresh.goals)].map(({goal}) =>
      ({id: goal.id, title: goal.title}));
    openNewGoal({unit: state.unit, unitName: c.unitName, cycle: state.cycle,
      cycleName: c.cycleName, goals, metrics});
  };
  clear(container).append(
      h('header', {class: 'page-head'},
          h('div', {},
              h('h1', {testid: 'board-title'}, c.unitName),
              h('p', {class: 'muted'}, cycle ?
                `${cycle.name || cycle.id} · ${cycle.start} – ${cycle.end}` :
                state.cycle)),
          h('div', {class: 'head-actions'},
              c.can.write ? h('button', {class: 'btn', type: 'button',
                testid: 'new-goal', onclick: () => newGoal().catch(() => {})},
              'New goal') : null)),
      approvalsEl, boardEl);
  const data = await api.board(state.unit, state.cycle);
  if (viewAsOf()) {
    // A past moment: the board as it was, counted from then, not live.
    const then = momentShown();
    mountBoard(boardEl, data, {readOnly: true,
      now: then === null ? undefined : () => then});
    boardEl.dataset.position = String(data.position);
    boardEl.dataset.asOf = viewAsOf();
    return;
  }
  const opts = {
    readOnly: !c.can.write,
    onCheckIn: (goal) => openCheckIn(goal),
    onEditTarget: (goal) => openEditTarget(goal),
  };
  const board = mountBoard(boardEl, data, opts);
  boardEl.dataset.position = String(data.position);
  const readApprovals = approvalsPanel(approvalsEl, c);
  readApprovals();
  let approvalsTimer = null;

  let reloadTimer = null;
  // `viaLive`: the tree changed; ask the live connection for a snapshot,
  // which every page watching this board after the same event shares (the
  // server renders it once). The periodic re-read goes through REST: it is
  // for what moves with the clock, and a snapshot is of the last event.
  const reload = (viaLive = false) => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(async () => {
      if (viaLive && live.resnapshot()) return;
      try {
        const fresh = await api.board(state.unit, state.cycle);
        board.replace(fresh);
        if (live.position === null || fresh.position > live.position) {
          live.position = fresh.position;
        }
      } catch { /* the next event or reconnect retries */ }
    }, 150);
  };
  const live = new LiveClient({
    token: getToken(), unit: state.unit, cycle: state.cycle, depth: 0,
    from: data.position,
    onState: showLive,
    onRevoked: () => {
      clearToken();
      showTokenScreen('Your token was revoked. Sign in with another.');
    },
    onSnapshot: (snap, position) => {
      board.replace(snap);
      boardEl.dataset.position = String(position);
    },
    onEvent: (msg) => {
      const type = msg.event?.type || '';
      const structural = type === 'goal.created' || type === 'goal.decomposed' ||
          (type === 'goal.edited' && msg.event?.data?.changes &&
           'parent' in msg.event.data.changes);
      const unknown = board.update(msg.goals || []);
      // Goals of other units (a parent objective higher up) are not shown
      // here; a new goal of this board means the tree changed.
      const ours = unknown.some((g) => (!g.unit || g.unit === state.unit) &&
          (!g.cycle || g.cycle === state.cycle));
      if (structural || ours) reload(true);
      // A goal proposed or approved: the approvals again.
      if (type === 'goal.status_changed' || type === 'goal.created') {
        clearTimeout(approvalsTimer);
        approvalsTimer = setTimeout(readApprovals, 150);
      }
      boardEl.dataset.position = String(msg.position);
    },
  });
  state.live = live;
  live.start();
  // Pacing, staleness and "n min ago" move with the clock: on a wall display
  // the board re-reads itself every few minutes.
  const refresh = setInterval(() => {
    reload();
    readApprovals();
  }, REFRESH_MS);
  state.cleanup = () => {
    clearTimeout(reloadTimer);
    clearTimeout(approvalsTimer);
    clearInterval(refresh);
  };
}

// ---- Start -----------------------------------------------------------------

async function start() {
  state.started = true;
  document.body.classList.remove('signed-out');
  try {
    [, state.me] = await Promise.all([readLists(),
      api.me().catch(() => null)]);
  } catch (e) {
    state.started = false;
    if (e.status === 401) return;
    clear($('#view')).append(h('div', {class: 'panel error-panel',
      testid: 'view-error'}, h('h2', {}, 'Cannot reach the server'),
    h('p', {}, e.message), h('button', {class: 'btn', type: 'button',
      onclick: () => start()}, 'Try again')));
    return;
  }
  showWho(state.me);
  const has = (list, id) => list.some((x) => x.id === id);
  const savedUnit = localStorage.getItem(UNIT_KEY);
  const savedCycle = localStorage.getItem(CYCLE_KEY);
  state.unit = has(state.units, savedUnit) ? savedUnit : pickDefaultUnit(state.units);
  state.cycle = has(state.cycles, savedCycle) ? savedCycle :
    pickDefaultCycle(state.cycles);
  await route();
}

function init() {
  setupTheme();
  onUnauthorized(() => {
    clearToken();
    showTokenScreen('Your token was refused. Sign in again.');
  });
  $('#unit-select').addEventListener('change', (e) => {
    const {view} = parseHash();
    location.hash = hashFor(view === 'goal' ? 'board' : view,
        {unit: e.target.value, cycle: state.cycle});
  });
  $('#cycle-select').addEventListener('change', (e) => {
    const {view} = parseHash();
    location.hash = hashFor(view === 'goal' ? 'board' : view,
        {unit: state.unit, cycle: e.target.value});
  });
  $('#sign-out').addEventListener('click', () => {
    clearToken();
    showTokenScreen();
  });
  window.addEventListener('hashchange', () => {
    if (!getToken()) return;
    if (state.started) route();
    else start();
  });
  if (getToken()) {
    start();
  } else {
    showTokenScreen();
  }
}

init();
