// Replay: a time slider over the cycle showing the board as it was at any
// moment (GET /boards with as_of = that time) and a play button that steps
// through the cycle.
import {h, clear, cycleBounds, fmtDateTime} from '../util.js';
import {api} from '../api.js';
import {mountBoard} from './board.js';

const HOUR = 3600000;
const DAY = 24 * HOUR;
const PLAY_STEPS = 60;
const PLAY_PAUSE_MS = 500;

export async function renderReplay(container, ctx) {
  clear(container).append(h('p', {class: 'muted'}, 'Loading…'));
  const cycle = await api.cycle(ctx.cycle);
  const {start, end} = cycleBounds(cycle);
  const min = start;
  const max = Math.max(start, Math.min(Date.now(), end));
  const slider = h('input', {type: 'range', id: 'replay-slider', min, max,
    step: 1, value: max, testid: 'replay-slider',
    'aria-label': 'Moment of the cycle to show'});
  const label = h('output', {for: 'replay-slider', class: 'replay-at',
    testid: 'replay-at'});
  const play = h('button', {class: 'btn primary', type: 'button',
    testid: 'replay-play', 'aria-pressed': 'false'}, '▶ Play');
  const status = h('span', {class: 'muted replay-status', role: 'status'});
  const boardEl = h('div', {class: 'board replay-board', testid: 'replay-board'});
  let board = null;
  let shownAt = max;  // the moment shown: "checked in n days ago" counts from it
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

  async function load() {
    const my = ++seq;
    const at = new Date(Number(slider.value)).toISOString();
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
              h('div', {class: 'replay-readout'}, label, status))),
      boardEl);
  syncLabel();
  await load();
  return () => stop();
}
