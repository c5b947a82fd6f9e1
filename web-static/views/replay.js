// Replay: a time slider over the cycle showing the board as it was at any
// moment (GET /boards with as_of = that time), a play button that steps
// through the cycle, and what changed on the board between an earlier
// moment and the one shown (GET /diff).
import {h, clear, cycleBounds, fmtAny, fmtDateTime, fmtGrade, FIELD_LABEL,
  goalHref, hashFor} from '../util.js';
import {api} from '../api.js';
import {mountBoard} from './board.js';

const HOUR = 3600000;
const DAY = 24 * HOUR;
const PLAY_STEPS = 60;
const PLAY_PAUSE_MS = 500;

function fmtField(field, v) {
  if (v === '') return '—';
  return field === 'grade' && typeof v === 'number' ? fmtGrade(v) : fmtAny(v);
}

/** The diff of a board between two moments, as a list. */
function renderDiff(d) {
  const goalLink = (id, title) => h('a',
      {href: goalHref(id)}, title || id);
  const items = [
    ...(d.added || []).map((g) => h('li', {class: 'diff-added',
      testid: 'diff-added', dataset: {goal: g.id}},
    h('span', {class: 'tag'}, 'New'), goalLink(g.id, g.title))),
    ...(d.removed || []).map((g) => h('li', {class: 'diff-removed',
      testid: 'diff-removed', dataset: {goal: g.id}},
    h('span', {class: 'tag'}, 'Gone'), goalLink(g.id, g.title))),
    ...(d.changed || []).map((c) => h('li', {testid: 'diff-changed',
      dataset: {goal: c.goal}},
    goalLink(c.goal, c.title),
    h('ul', {class: 'diff-fields'}, Object.entries(c.changes || {}).map(
        ([field, ch]) => h('li', {testid: 'diff-field', dataset: {field}},
            h('span', {class: 'muted'}, `${FIELD_LABEL[field] || field} `),
            `${fmtField(field, ch.from)} → ${fmtField(field, ch.to)}`))))),
  ];
  return items.length ? h('ul', {class: 'plain diff-list'}, items) :
    h('p', {class: 'muted', testid: 'diff-none'}, 'Nothing changed.');
}

export async function renderReplay(container, ctx) {
  clear(container).append(h('p', {class: 'muted'}, 'Loading…'));
  const cycle = await api.cycle(ctx.cycle);
  const {start, end} = cycleBounds(cycle);
  const min = start;
  const max = Math.max(start, Math.min(Date.now(), end));
  // Opened from a page shown at a past moment: start there.
  const from = Date.parse(ctx.asOf || '');
  const first = Number.isNaN(from) ? max : Math.min(max, Math.max(min, from));
  const slider = h('input', {type: 'range', id: 'replay-slider', min, max,
    step: 1, value: first, testid: 'replay-slider',
    'aria-label': 'Moment of the cycle to show'});
  const label = h('output', {for: 'replay-slider', class: 'replay-at',
    testid: 'replay-at'});
  const play = h('button', {class: 'btn primary', type: 'button',
    testid: 'replay-play', 'aria-pressed': 'false'}, '▶ Play');
  const status = h('span', {class: 'muted replay-status', role: 'status'});
  const boardEl = h('div', {class: 'board replay-board', testid: 'replay-board'});
  // What changed: from the cycle's start, a week or a day before the moment
  // shown, or a moment pinned with the button, up to the moment shown.
  const since = h('select', {testid: 'diff-since',
    'aria-label': 'Compare the moment shown with'},
  h('option', {value: 'start'}, 'since the cycle started'),
  h('option', {value: 'week'}, 'in the week before'),
  h('option', {value: 'day'}, 'in the day before'));
  const pin = h('button', {class: 'btn', type: 'button', testid: 'diff-pin'},
      'Compare from this moment');
  const diffEl = h('div', {class: 'diff', testid: 'diff'});
  // The other views at the moment shown (they read everything as of it).
  const elsewhere = h('p', {class: 'muted replay-elsewhere',
    testid: 'replay-elsewhere'});
  const showElsewhere = (at) => clear(elsewhere).append('This moment in: ',
      ...[['board', 'Board'], ['tree', 'Goal tree'],
        ['scorecard', 'Scorecard'], ['retro', 'Retro']].flatMap(
          ([view, name], i) => [i ? ' · ' : '', h('a', {testid:
            `at-moment-${view}`, href: hashFor(view, {unit: ctx.unit,
            cycle: ctx.cycle, as_of: at})}, name)]));
  let pinnedAt = null;
  let board = null;
  let shownAt = first;  // the moment shown: "checked in n days ago" counts from it
  let seq = 0;
  let timer = null;
  let playing = false;

  const pct = (v) => (max > min ? (v - min) / (max - min) : 1);
  const syncLabel = () => {
    const v = Number(slider.value);
    label.textContent = fmtDateTime(v);
    slider.setAttribute('aria-valuetext', fmtDateTime(v));
    slider.style.setProperty('--pos', `${(pct(v) * 100).toFixed(2)}%`);
  };

  function diffFrom(to) {
    const pick = since.value;
    if (pick === 'pinned') return pinnedAt;
    if (pick === 'week') return Math.max(min, to - 7 * DAY);
    if (pick === 'day') return Math.max(min, to - DAY);
    return min;
  }

  async function loadDiff(my, to) {
    const from = diffFrom(to);
    diffEl.dataset.loading = 'true';
    let content;
    if (from >= to) {
      content = h('p', {class: 'muted', testid: 'diff-none'},
          'Move the slider past the moment to compare from.');
    } else {
      try {
        const d = await api.diff(ctx.unit, ctx.cycle,
            new Date(from).toISOString(), new Date(to).toISOString());
        content = renderDiff(d);
      } catch (e) {
        content = h('p', {class: 'muted', testid: 'diff-none'},
            e.status === 404 ? 'The board did not exist yet at the earlier ' +
              'moment.' : `Could not compare: ${e.message}`);
      }
    }
    if (my !== seq) return;
    clear(diffEl).append(content);
    diffEl.dataset.from = new Date(from).toISOString();
    diffEl.dataset.to = new Date(to).toISOString();
    delete diffEl.dataset.loading;
  }

  async function load() {
    const my = ++seq;
    const at = new Date(Number(slider.value)).toISOString();
    loadDiff(my, Number(slider.value));
    boardEl.dataset.loading = 'true';
    try {
      const data = await api.board(ctx.unit, ctx.cycle, {asOf: at});
      if (my !== seq) return;
      shownAt = Date.parse(at);
      if (board) board.replace(data);
      else {
        board = mountBoard(boardEl, data, {readOnly: true,
          now: () => shownAt});
      }
      status.textContent = `position ${data.position}`;
      boardEl.dataset.position = String(data.position);
    } catch (e) {
      if (my !== seq) return;
      board = null;
      clear(boardEl).append(h('p', {class: 'empty', testid: 'replay-empty'},
          e.status === 404 ? 'Nothing on this board yet at this moment.' :
          `Could not load: ${e.message}`));
      status.textContent = '';
    }
    boardEl.dataset.asOf = at;
    showElsewhere(at);
    delete boardEl.dataset.loading;
  }

  let debounce = null;
  const onMove = () => {
    syncLabel();
    clearTimeout(debounce);
    debounce = setTimeout(load, 120);
  };
  slider.addEventListener('input', onMove);
  slider.addEventListener('change', onMove);
  slider.addEventListener('keydown', (e) => {
    const step = {ArrowLeft: -HOUR, ArrowDown: -HOUR, ArrowRight: HOUR,
      ArrowUp: HOUR, PageDown: -DAY, PageUp: DAY}[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const mult = e.shiftKey ? 24 : 1;
    slider.value = String(Math.min(max, Math.max(min,
        Number(slider.value) + step * mult)));
    onMove();
  });

  function stop() {
    playing = false;
    clearTimeout(timer);
    play.textContent = '▶ Play';
    play.setAttribute('aria-pressed', 'false');
  }
  async function tick() {
    if (!playing) return;
    const next = Math.min(max, Number(slider.value) + (max - min) / PLAY_STEPS);
    slider.value = String(next);
    syncLabel();
    await load();
    if (next >= max) stop();
    else timer = setTimeout(tick, PLAY_PAUSE_MS);
  }
  since.addEventListener('change', () => load());
  pin.addEventListener('click', () => {
    pinnedAt = Number(slider.value);
    let opt = since.querySelector('option[value="pinned"]');
    if (!opt) {
      opt = h('option', {value: 'pinned'});
      since.append(opt);
    }
    opt.textContent = `since ${fmtDateTime(pinnedAt)}`;
    since.value = 'pinned';
    load();
  });
  play.addEventListener('click', () => {
    if (playing) {
      stop();
      return;
    }
    playing = true;
    play.textContent = '❚❚ Pause';
    play.setAttribute('aria-pressed', 'true');
    if (Number(slider.value) >= max) slider.value = String(min);
    tick();
  });

  clear(container).append(
      h('header', {class: 'page-head'},
          h('div', {}, h('h1', {}, 'Replay'),
              h('p', {class: 'muted'}, `${ctx.unitName} · ${cycle.name || cycle.id}` +
                ' · the board as it was at any moment of the cycle')),
          h('a', {class: 'btn', href: ctx.viewHref('retro'),
            testid: 'retro-link'}, 'Retrospective')),
      h('section', {class: 'panel replay-controls'},
          h('div', {class: 'replay-row'}, play,
              h('div', {class: 'slider-wrap'},
                  h('label', {for: 'replay-slider', class: 'visually-hidden'},
                      'Moment of the cycle'),
                  slider,
                  h('div', {class: 'slider-ends muted'},
                      h('span', {}, fmtDateTime(min)), h('span', {}, fmtDateTime(max)))),
              h('div', {class: 'replay-readout'}, label, status)),
          elsewhere),
      boardEl,
      h('section', {class: 'panel replay-diff'},
          h('div', {class: 'persp-head'},
              h('h2', {}, 'What changed'),
              h('div', {class: 'diff-controls'}, since, pin)),
          diffEl));
  syncLabel();
  await load();
  return () => stop();
}
