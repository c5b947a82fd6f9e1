// The board: a unit's goals for a cycle, objectives with their key results
// nested. Used live on the board screen and read-only in the replay.
import {h, clear, fmtValue, fmtPct, fmtGrade, fmtAgo, fmtNum, walkGoals,
  isFinished, staleness, vagueness, PACING_LABEL, KIND_LABEL, goalHref}
  from '../util.js';

const COLOR_LABEL = {green: 'On target', yellow: 'At risk', red: 'Off target'};

// Dropped or archived: listed, but neither graded nor paced.
const isSetAside = (goal) => goal.status === 'dropped' ||
  goal.status === 'archived';

/**
 * Board summary computed from the tree, so live updates keep it current.
 * `now`: the moment the board shows (staleness of new goals).
 */
export function summarize(goals, now = Date.now()) {
  const byColor = {green: 0, yellow: 0, red: 0};
  const byPacing = {};
  let count = 0;
  let stale = 0;
  for (const {goal} of walkGoals(goals)) {
    count++;
    // A dropped or archived goal is neither on target nor behind.
    if (isSetAside(goal)) continue;
    if (goal.color in byColor) byColor[goal.color]++;
    const p = goal.pacing?.status;
    if (p) byPacing[p] = (byPacing[p] || 0) + 1;
    if (staleness(goal, now) === 'stale') stale++;
  }
  let weights = 0;
  let sum = 0;
  for (const goal of goals || []) {
    if (isSetAside(goal)) continue;
    if (goal.grade === null || goal.grade === undefined) continue;
    const w = Number(goal.weight ?? 1);
    weights += w;
    sum += w * Number(goal.grade);
  }
  return {count, byColor, byPacing, stale,
    grade: weights > 0 ? sum / weights : null};
}

function measureText(goal) {
  const m = goal.measure;
  if (!m) return null;
  if (m.direction === 'binary') return goal.progress >= 1 ? 'Done' : 'Not done';
  return h('span', {class: 'measure'},
      h('span', {testid: 'goal-current', class: 'current',
        dataset: {value: String(goal.current ?? m.start ?? '')}},
      fmtValue(goal.current ?? m.start, m.unit)),
      h('span', {class: 'sep', 'aria-hidden': 'true'}, ' / '),
      h('span', {testid: 'goal-target', class: 'target',
        dataset: {value: String(m.target ?? '')}}, fmtValue(m.target, m.unit)));
}

function progressBar(goal) {
  const pct = Math.max(0, Math.min(1, Number(goal.progress ?? goal.grade ?? 0)));
  const expected = goal.pacing?.expected;
  return h('div', {class: 'bar', role: 'progressbar', 'aria-valuemin': 0,
    'aria-valuemax': 100, 'aria-valuenow': Math.round(pct * 100),
    'aria-label': `Progress ${fmtPct(pct)}`, testid: 'goal-progress'},
  h('div', {class: `fill c-${goal.color || 'none'}`,
    style: `width:${(pct * 100).toFixed(2)}%`}),
  typeof expected === 'number' ?
    h('div', {class: 'expected', title: `Expected by now: ${fmtPct(expected)}`,
      style: `left:${(Math.min(1, expected) * 100).toFixed(2)}%`}) : null);
}

function pacingCell(goal) {
  const p = goal.pacing;
  if (!p || !p.status || isSetAside(goal)) {
    return h('div', {class: 'cell pacing muted'}, '—');
  }
  const unit = goal.measure?.unit;
  return h('div', {class: 'cell pacing'},
      h('span', {class: `chip p-${p.status}`, testid: 'goal-pacing',
        dataset: {status: p.status}}, PACING_LABEL[p.status] || p.status),
      p.required_per_day !== null && p.required_per_day !== undefined &&
      p.status !== 'done' ?
        h('span', {class: 'sub', title: 'Needed per remaining day'},
            `${fmtValue(p.required_per_day, unit)}/day`) : null);
}

/** One goal's row (without its children). */
/**
 * The moment "n days ago" counts from: opts.now (a time in ms, or a function
 * giving one, e.g. the replay's as_of moment), else the clock.
 */
function nowOf(opts) {
  const now = typeof opts.now === 'function' ? opts.now() : opts.now;
  return now ?? Date.now();
}

/** Where the goal's value last came from, for the row's third line. */
function lastUpdate(goal, now) {
  if (goal.last_check_in) return `checked in ${fmtAgo(goal.last_check_in, now)}`;
  if (goal.split) return 'from its parts';
  if (goal.measure?.metric) return `from the metric ${goal.measure.metric}`;
  if (!goal.measure) return 'graded from its sub-goals';
  return 'no check-in yet';
}

function goalRow(goal, opts) {
  const readOnly = opts.readOnly;
  const hasMeasure = !!goal.measure;
  // A split goal's value comes from its parts: check-ins go to those.
  const takesCheckIns = hasMeasure && !goal.split;
  const vague = vagueness(goal);
  const closedish = isFinished(goal);
  const titleLink = h('a', {href: goalHref(goal.id),
    class: 'title', testid: 'goal-title'}, goal.title || goal.id);
  return h('div', {class: `goal-row status-${goal.status || 'active'}`},
      h('div', {class: 'cell what'},
          h('div', {class: 'line1'},
              h('span', {class: 'kind'}, KIND_LABEL[goal.kind] || goal.kind),
              goal.committed ? h('span', {class: 'tag'}, 'Committed') : null,
              goal.status && goal.status !== 'active' ?
                h('span', {class: 'tag', testid: 'goal-status'}, goal.status) :
                null,
              staleness(goal, opts.now) === 'stale' ? h('span',
                  {class: 'tag stale', testid: 'goal-stale',
                    title: 'No check-in in the last 7 days'}, 'Stale') :
                staleness(goal, opts.now) === 'new' ? h('span',
                    {class: 'tag', testid: 'goal-new',
                      title: 'Made this week, no check-in yet'}, 'New') :
                  null,
              vague.length ? h('span', {class: 'tag vague', testid: 'goal-vague',
                title: `Not SMART: not ${vague.join(', ')}`}, 'Vague') : null),
          titleLink,
          h('div', {class: 'line3'},
              goal.owner ? h('span', {class: 'owner', testid: 'goal-owner'},
                  goal.owner) : h('span', {class: 'owner muted'}, 'No owner'),
              h('span', {class: 'last', testid: 'goal-last-check-in',
                title: goal.last_check_in || null},
              lastUpdate(goal, opts.now)))),
      h('div', {class: 'cell progress'}, progressBar(goal),
          h('div', {class: 'sub'}, measureText(goal))),
      h('div', {class: 'cell grade'},
          h('span', {class: `grade-chip c-${goal.color || 'none'}`,
            testid: 'goal-grade', dataset: {value: String(goal.grade ?? '')},
            title: COLOR_LABEL[goal.color] || ''}, fmtGrade(goal.grade))),
      h('div', {class: 'cell confidence'},
          h('span', {class: 'label'}, 'Confidence'),
          h('span', {testid: 'goal-confidence', class: 'conf'},
              goal.confidence === null || goal.confidence === undefined ? '—' :
              `${fmtNum(goal.confidence)}/10`)),
      pacingCell(goal),
      h('div', {class: 'cell actions'},
          !readOnly && takesCheckIns && !closedish ?
            h('button', {class: 'btn primary', type: 'button',
              testid: 'checkin-btn', 'aria-label': `Check in on ${goal.title}`,
              onclick: () => opts.onCheckIn?.(goal)}, 'Check in') : null,
          // A finished goal's target is changed, if at all, from its page.
          !readOnly && hasMeasure && goal.measure.direction !== 'binary' &&
            !closedish ?
            h('button', {class: 'btn', type: 'button', testid: 'edit-target-btn',
              'aria-label': `Edit target of ${goal.title}`,
              onclick: () => opts.onEditTarget?.(goal)}, 'Target') : null,
          h('a', {class: 'btn ghost', href: goalHref(goal.id),
            testid: 'history-link', 'aria-label': `History of ${goal.title}`},
          'History')));
}

/**
 * Renders a board into `container` and returns a controller:
 *   update(goals) - merge goal responses from a live event; returns the
 *                   goals not on the board (the caller decides to reload)
 *   replace(board) - render a whole new board (snapshot)
 */
export function mountBoard(container, board, opts = {}) {
  const rows = new Map(); // goal id -> {li, goal}
  let goals = board.goals || [];
  const list = h('ol', {class: 'goals', testid: 'goal-list', role: 'list'});
  const summaryEl = h('div', {class: 'summary', testid: 'board-summary'});
  clear(container).append(summaryEl, list);

  function renderSummary() {
    const s = summarize(goals, nowOf(opts));
    clear(summaryEl).append(
        h('div', {class: 'stat'}, h('span', {class: 'stat-label'}, 'Grade'),
            h('span', {class: 'stat-value', testid: 'board-grade'},
                fmtGrade(s.grade))),
        h('div', {class: 'stat'}, h('span', {class: 'stat-label'}, 'Goals'),
            h('span', {class: 'stat-value'}, String(s.count))),
        h('div', {class: 'stat colors'},
            h('span', {class: 'stat-label'}, 'Status'),
            h('span', {class: 'stat-value dots'},
                ['green', 'yellow', 'red'].map((c) =>
                  h('span', {class: `dot-count`, title: COLOR_LABEL[c]},
                      h('span', {class: `dot c-${c}`, 'aria-hidden': 'true'}),
                      `${s.byColor[c]} ${COLOR_LABEL[c].toLowerCase()}`)))),
        h('div', {class: 'stat'}, h('span', {class: 'stat-label'}, 'Behind'),
            h('span', {class: 'stat-value'}, String(s.byPacing.behind || 0))),
        h('div', {class: 'stat'}, h('span', {class: 'stat-label'}, 'Stale'),
            h('span', {class: 'stat-value'}, String(s.stale))));
  }

  function renderItems(parentEl, items, depth) {
    for (const goal of items) {
      const li = h('li', {class: `goal depth-${Math.min(depth, 3)}`,
        testid: `goal-${goal.id}`, dataset: {id: goal.id}});
      li.append(goalRow(goal, {...opts, now: nowOf(opts)}));
      rows.set(goal.id, {li, goal});
      if (goal.children_detail?.length) {
        const ol = h('ol', {class: 'children', role: 'list'});
        renderItems(ol, goal.children_detail, depth + 1);
        li.append(ol);
      }
      parentEl.append(li);
    }
  }

  function renderAll() {
    rows.clear();
    clear(list);
    if (!goals.length) {
      list.append(h('li', {class: 'empty', testid: 'board-empty'},
          'No goals for this unit in this cycle yet.'));
    }
    renderItems(list, goals, 0);
    renderSummary();
  }

  function mergeInto(items, fresh) {
    for (let i = 0; i < items.length; i++) {
      if (items[i].id === fresh.id) {
        // A live goal replaces the row's figures; fields it does not carry
        // (and the nested children) are kept from what the board had.
        const old = items[i];
        items[i] = {...old, ...fresh, children_detail: old.children_detail,
          measure: fresh.measure && old.measure ?
            {...old.measure, ...fresh.measure} : (fresh.measure ?? old.measure)};
        return items[i];
      }
      const found = mergeInto(items[i].children_detail || [], fresh);
      if (found) return found;
    }
    return null;
  }

  renderAll();
  return {
    update(freshGoals) {
      const unknown = [];
      for (const fresh of freshGoals || []) {
        const entry = rows.get(fresh.id);
        if (!entry) {
          unknown.push(fresh);
          continue;
        }
        const merged = mergeInto(goals, fresh);
        const focusedTestId = entry.li.querySelector(':scope > .goal-row')
            ?.contains(document.activeElement) ?
          document.activeElement.dataset.testid : null;
        const row = goalRow(merged, {...opts, now: nowOf(opts)});
        entry.li.replaceChild(row, entry.li.querySelector(':scope > .goal-row'));
        entry.goal = merged;
        if (focusedTestId) {
          row.querySelector(`[data-testid="${focusedTestId}"]`)?.focus();
        }
        row.classList.add('flash');
      }
      renderSummary();
      return unknown;
    },
    replace(newBoard) {
      goals = newBoard.goals || [];
      renderAll();
    },
    goal(id) {
      return rows.get(id)?.goal;
    },
  };
}
