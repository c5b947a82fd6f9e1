// Retrospective: how the cycle ended, what was retargeted and why, notes.
import {h, table, tableHead, viewSlot, fmtDate, fmtGrade, fmtValue,
  fmtDateTime, FIELD_LABEL, goalHref} from '../util.js';
import {api} from '../api.js';
import {openCloseCycle, openRetroNote} from './dialogs.js';

const GROUPS = [['exceeded', 'Exceeded', 'green'], ['achieved', 'Achieved', 'green'],
  ['missed', 'Missed', 'red'], ['dropped', 'Dropped', 'none']];

function goalItem(item) {
  if (typeof item === 'string') {
    return h('li', {}, h('a', {href: goalHref(item)}, item));
  }
  const id = item.id ?? item.goal;
  return h('li', {testid: `retro-goal-${id}`},
      h('a', {href: goalHref(id)}, item.title || id),
      h('span', {class: 'meta'}, [item.owner,
        item.grade !== undefined ? `grade ${fmtGrade(item.grade)}` : null]
          .filter(Boolean).join(' · ')),
      // A dropped goal says why.
      item.reason ? h('div', {class: 'ev-reason', testid: 'retro-reason'},
          h('span', {class: 'muted'}, 'Why: '), item.reason) : null);
}

export async function renderRetro(container, ctx) {
  const place = viewSlot(container);
  const r = await api.retro(ctx.unit, ctx.cycle);
  const retargeted = r.retargeted || [];
  const notes = r.notes || [];
  const checkIns = r.check_ins || {};
  // Retargets and notes name goals by id; the outcome groups carry titles.
  const titles = new Map(GROUPS.flatMap(([key]) => (r[key] || [])
      .filter((g) => typeof g === 'object' && g.title)
      .map((g) => [g.id ?? g.goal, g.title])));
  const titleOf = (id) => titles.get(id) || id;
  // Before its end the retrospective reports the cycle so far: what is not
  // at its target yet is not missed yet.
  const cycle = ctx.cycleInfo;
  const today = new Date().toISOString().slice(0, 10);
  const running = Boolean(cycle && !cycle.closed && today <= cycle.end);
  // An ended cycle is closed here, which freezes its final grades.
  const closable = Boolean(cycle && !cycle.closed && today > cycle.end);
  const labels = running ? {missed: 'Below target so far'} : {};
  place(
      h('header', {class: 'page-head'},
          h('div', {}, h('h1', {}, 'Retrospective'),
              h('p', {class: 'muted', testid: 'retro-summary'},
                  `${ctx.unitName} · ${ctx.cycleName} · ` +
                  `${checkIns.count ?? 0} check-ins` +
                  (running ? ` · so far; the cycle ends ${fmtDate(cycle.end)}` :
                    '') +
                  (cycle?.closed ? ' · closed: the grades are final' : ''))),
          h('div', {class: 'head-actions'},
              closable && ctx.can.admin ? h('button', {class: 'btn',
                type: 'button', testid: 'retro-close',
                onclick: () => openCloseCycle(cycle, () => ctx.orgChanged({}))},
              'Close the cycle') : null,
              h('a', {class: 'btn', href: ctx.viewHref('replay')},
                  'Replay the cycle'))),
      h('div', {class: 'outcomes', testid: 'retro'}, GROUPS.map(([key, label, c]) => {
        const items = r[key] || [];
        return h('section', {class: 'panel outcome', testid: `retro-${key}`},
            h('div', {class: 'persp-head'}, h('h2', {}, labels[key] || label),
                h('span', {class: `count c-${c}`}, String(items.length))),
            items.length ? h('ul', {class: 'plain'}, items.map(goalItem)) :
              h('p', {class: 'muted'}, 'None.'));
      })),
      h('section', {class: 'panel', testid: 'retro-retargeted'},
          h('h2', {}, 'Retargeted'),
          retargeted.length ? table({},
              tableHead(['Goal', 'Field', 'From → to', 'Why', 'Who', 'When']),
              h('tbody', {}, retargeted.map((x) => h('tr', {testid: 'retarget-row'},
                  h('td', {}, h('a', {href: goalHref(x.goal)},
                      x.title || titleOf(x.goal))),
                  h('td', {}, FIELD_LABEL[x.field] || x.field || ''),
                  h('td', {}, `${fmtValue(x.from)} → ${fmtValue(x.to)}`),
                  h('td', {testid: 'retarget-reason'}, x.reason || '—'),
                  h('td', {}, x.actor || ''),
                  h('td', {}, fmtDateTime(x.at)))))) :
            h('p', {class: 'muted'}, 'No target was changed during the cycle.')),
      h('section', {class: 'panel', testid: 'retro-notes'},
          h('div', {class: 'persp-head'}, h('h2', {}, 'Notes'),
              !ctx.can.write ? null : h('button', {class: 'btn',
                type: 'button', testid: 'note-add',
                onclick: () => openRetroNote({unit: ctx.unit,
                  unitName: ctx.unitName, cycle: ctx.cycle,
                  cycleName: ctx.cycleName,
                  goals: [...titles].map(([id, title]) => ({id, title}))},
                () => renderRetro(container, ctx))}, 'Add a note')),
          notes.length ? h('ul', {class: 'notes'}, notes.map((n) =>
            h('li', {class: `note k-${n.kind || 'note'}`},
                h('span', {class: 'tag'}, n.kind || 'note'),
                h('span', {}, n.text ?? (typeof n === 'string' ? n : '')),
                n.goal ? h('span', {class: 'muted'}, ` · ${titleOf(n.goal)}`) :
                  null))) :
            h('p', {class: 'muted'}, 'No notes yet.')));
}
