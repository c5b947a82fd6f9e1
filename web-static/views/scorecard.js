// Balanced scorecard: the four perspectives with their scores and goals.
import {h, viewSlot, fmtGrade, goalHref} from '../util.js';
import {api} from '../api.js';

const PERSPECTIVES = [['financial', 'Financial'], ['customer', 'Customer'],
  ['internal', 'Internal process'], ['learning', 'Learning & growth']];

function color(score) {
  if (score === null || score === undefined) return 'none';
  return score >= 0.7 ? 'green' : score >= 0.4 ? 'yellow' : 'red';
}

export async function renderScorecard(container, ctx) {
  const place = viewSlot(container);
  const sc = await api.scorecard(ctx.unit, ctx.cycle);
  const per = sc.perspectives || {};
  place(
      h('header', {class: 'page-head'},
          h('div', {}, h('h1', {}, 'Scorecard'),
              h('p', {class: 'muted'}, `${ctx.unitName} · ${ctx.cycleName}`)),
          h('div', {class: 'big-score'}, h('span', {class: 'stat-label'}, 'Score'),
              h('span', {class: `grade-chip large c-${color(sc.score)}`,
                testid: 'scorecard-score'}, fmtGrade(sc.score)))),
      h('div', {class: 'quad', testid: 'scorecard'}, PERSPECTIVES.map(([key,
        label]) => {
        const p = per[key] || {};
        const goals = (p.goals || []).map((g) =>
          (typeof g === 'string' ? {id: g} : g));
        return h('section', {class: 'panel perspective',
          testid: `perspective-${key}`},
        h('div', {class: 'persp-head'}, h('h2', {}, label),
            h('span', {class: `grade-chip c-${color(p.score)}`},
                fmtGrade(p.score))),
        goals.length ? h('ul', {class: 'plain'}, goals.map((g) => h('li', {},
            h('span', {class: `dot c-${g.color || 'none'}`, 'aria-hidden': 'true'}),
            h('a', {href: goalHref(g.id)}, g.title || g.id),
            h('span', {class: 'meta'}, fmtGrade(g.grade))))) :
          h('p', {class: 'muted'}, 'No goals in this perspective.'));
      })));
}
