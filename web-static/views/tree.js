// The cascade: the organisation from the company down to people, each unit
// with the grade of its own top-level goals and those goals listed. New
// units and cycles are made here.
import {h, viewSlot, fmtGrade, walkGoals, goalHref} from '../util.js';
import {api} from '../api.js';
import {openEditUnit} from './dialogs.js';

function gradeOf(goals) {
  let w = 0;
  let s = 0;
  for (const g of goals) {
    if (g.grade === null || g.grade === undefined) continue;
    if (g.status === 'dropped' || g.status === 'archived') continue;
    w += Number(g.weight ?? 1);
    s += Number(g.weight ?? 1) * Number(g.grade);
  }
  return w ? s / w : null;
}

function colorOf(grade) {
  if (grade === null) return 'none';
  return grade >= 0.7 ? 'green' : grade >= 0.4 ? 'yellow' : 'red';
}

export async function renderTree(container, ctx) {
  const place = viewSlot(container);
  const units = ctx.units;
  const roots = units.filter((u) => !u.parent ||
      !units.some((p) => p.id === u.parent));
  const goalsByUnit = new Map();
  for (const root of roots) {
    const board = await api.board(root.id, ctx.cycle, {depth: 32});
    const seen = new Set();
    for (const {goal, parent} of walkGoals(board.goals)) {
      if (seen.has(goal.id)) continue;
      seen.add(goal.id);
      // A unit's own top-level goals: no parent in the same unit.
      if (parent && parent.unit === goal.unit) continue;
      if (!goalsByUnit.has(goal.unit)) goalsByUnit.set(goal.unit, []);
      goalsByUnit.get(goal.unit).push(goal);
    }
  }
  const childrenOf = (id) => units.filter((u) => u.parent === id);
  const node = (unit) => {
    const goals = goalsByUnit.get(unit.id) || [];
    const grade = gradeOf(goals);
    const kids = childrenOf(unit.id);
    return h('li', {class: 'tree-node', testid: `tree-${unit.id}`},
    h('div', {class: 'tree-row'},
        h('span', {class: `grade-chip c-${colorOf(grade)}`,
          testid: 'tree-grade'}, fmtGrade(grade)),
        h('a', {class: 'tree-name', href: ctx.boardHref(unit.id, ctx.cycle)},
            unit.name || unit.id),
        h('span', {class: 'kind'}, unit.kind || ''),
        ctx.can.admin ? h('button', {class: 'btn ghost small', type: 'button',
          testid: 'unit-edit', 'aria-label': `Edit ${unit.name || unit.id}`,
          onclick: () => openEditUnit(unit, ctx.unitOptions(),
              () => ctx.orgChanged({}))}, 'Edit') : null),
    goals.length ? h('ul', {class: 'tree-goals'}, goals.map((g) =>
      h('li', {}, h('span', {class: `dot c-${g.color || 'none'}`,
        'aria-hidden': 'true'}),
      h('a', {href: goalHref(g.id)}, g.title || g.id),
      h('span', {class: 'meta'}, fmtGrade(g.grade))))) : null,
    kids.length ? h('ul', {class: 'tree-children'},
        kids.map(node)) : null);
  };
  place(
      h('header', {class: 'page-head'}, h('div', {}, h('h1', {}, 'Goal tree'),
          h('p', {class: 'muted'}, `${ctx.cycleName} · from the company down to ` +
            'people; each unit shows the weighted grade of its own goals.')),
      !ctx.can.admin ? null : h('div', {class: 'head-actions'},
          h('button', {class: 'btn', type: 'button', testid: 'new-unit',
            onclick: ctx.newUnit}, 'New unit'),
          h('button', {class: 'btn', type: 'button', testid: 'new-cycle',
            onclick: ctx.newCycle}, 'New cycle'))),
      h('section', {class: 'panel'},
          h('ul', {class: 'tree', 'aria-label': 'Organisation',
            testid: 'goal-tree'}, roots.map(node))));
}
