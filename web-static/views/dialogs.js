// Modal forms: check-in (value, confidence, note), target edit (with a
// reason), a goal's other fields, a new goal, a split of a goal, a
// retrospective note, a new unit, a unit's name and place, a new cycle, a
// goal's status, closing a cycle, tokens, a new metric and a metric's
// value. All use <dialog>, so
// Escape closes them and focus stays inside.
import {h, fmtDateTime, fmtValue, focusKey, refocus, localDay, KIND_LABEL}
  from '../util.js';
import {api} from '../api.js';

function field(label, input, hint) {
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', {class: 'field'}, h('label', {for: id}, label), input,
      hint ? h('div', {class: 'hint'}, hint) : null);
}

// `cancellable: false` leaves out Cancel (a dialog that only informs).
function openDialog({title, testid, subtitle, fields, submitLabel, submitTestId,
  onSubmit, focus, cancellable = true}) {
  const error = h('div', {class: 'form-error', role: 'alert',
    testid: `${testid}-error`});
  const submit = h('button', {class: 'btn primary', type: 'submit',
    testid: submitTestId}, submitLabel);
  const cancel = cancellable ? h('button', {class: 'btn', type: 'button',
    testid: `${testid}-cancel`}, 'Cancel') : null;
  const form = h('form', {class: 'dialog-form', novalidate: false},
      h('h2', {}, title), subtitle ? h('p', {class: 'muted'}, subtitle) : null,
      fields, error, h('div', {class: 'dialog-actions'}, cancel, submit));
  const dialog = h('dialog', {testid, 'aria-label': title}, form);
  document.body.append(dialog);
  // Closing gives the focus back to the control that opened the dialog;
  // when a live update redrew it meanwhile, to the control that took its
  // place.
  dialog.opener = document.activeElement;  // read by viewSlot too
  const opener = focusKey(dialog.opener);
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  cancel?.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    refocus(document, opener);
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = 'Saving…';
    try {
      await onSubmit();
      close();
    } catch (err) {
      error.textContent = err.message || 'Could not save.';
      submit.disabled = false;
      submit.textContent = submitLabel;
    }
  });
  dialog.showModal();
  focus?.focus();
  focus?.select?.();
  return dialog;
}

/**
 * Check-in: opens prefilled with the current value; Save is the 2nd click.
 * `correcting`: a check-in event of the goal's history to correct instead:
 * prefilled with its value, confidence and note, sent with its effective
 * time and `correction_of` its position (both stay in the history, linked).
 */
export function openCheckIn(goal, onSaved, {correcting = null} = {}) {
  const m = goal.measure || {};
  const was = correcting?.data || {};
  const binary = m.direction === 'binary';
  const value = binary ?
    h('select', {testid: 'checkin-value'},
        h('option', {value: '0'}, 'Not done'), h('option', {value: '1'}, 'Done')) :
    h('input', {type: 'number', step: 'any', inputmode: 'decimal',
      testid: 'checkin-value', required: true,
      value: String(was.value ?? goal.current ?? m.start ?? '')});
  if (binary) {
    value.value = (correcting ? Number(was.value) >= 1 : goal.progress >= 1) ?
      '1' : '0';
  }
  const confOut = h('output', {class: 'conf-out'});
  const conf = h('input', {type: 'range', min: 0, max: 10, step: 1,
    testid: 'checkin-confidence',
    value: String(was.confidence ?? goal.confidence ?? 5)});
  const syncConf = () => {
    confOut.textContent = `${conf.value}/10`;
  };
  conf.addEventListener('input', syncConf);
  syncConf();
  const note = h('textarea', {rows: 3, testid: 'checkin-note', maxlength: 2000,
    placeholder: correcting ? 'What was wrong with it?' :
      'What moved, what is in the way?'});
  if (was.note) note.value = was.note;
  // A value reported late counts from the day it was true (pacing, the
  // chart and staleness use that day), not from when it was entered.
  const today = localDay(new Date());
  const asOf = h('input', {type: 'date', testid: 'checkin-as-of', max: today,
    value: today, required: true});
  const target = m.target !== undefined ?
    `Target ${fmtValue(m.target, m.unit)}` : '';
  return openDialog({
    title: correcting ? 'Correct a check-in' : 'Check in',
    testid: 'checkin-dialog',
    subtitle: correcting ? `${goal.title} · the check-in of ` +
      `${fmtDateTime(was.at ?? correcting.at)}, kept in the history` :
      `${goal.title} · ${target}`,
    fields: [
      field(binary ? 'Done?' : `Current value${m.unit ? ` (${m.unit})` : ''}`,
          value),
      h('div', {class: 'field'},
          h('label', {for: 'checkin-conf'}, 'Confidence ', confOut),
          Object.assign(conf, {id: 'checkin-conf'}),
          h('div', {class: 'hint'}, '0 = will not happen, 10 = certain')),
      field('Note', note),
      correcting ? null :
        field('True as of', asOf, 'An earlier day for a value reported late.'),
    ],
    submitLabel: 'Save check-in', submitTestId: 'checkin-save', focus: value,
    onSubmit: async () => {
      const body = {value: Number(value.value), confidence: Number(conf.value)};
      if (note.value.trim()) body.note = note.value.trim();
      if (correcting) {
        // The same moment, so that it takes the corrected one's place.
        body.at = was.at ?? correcting.at;
        body.correction_of = correcting.position;
      } else if (asOf.value && asOf.value < today) {
        // An earlier day: the end of that day, here.
        body.at = new Date(`${asOf.value}T23:59:59`).toISOString();
      }
      const res = await api.checkIn(goal.id, body);
      onSaved?.(res);
    },
  });
}

/** Target edit: PATCH measure.target with the reason, kept in the history. */
export function openEditTarget(goal, onSaved) {
  const m = goal.measure || {};
  const target = h('input', {type: 'number', step: 'any', inputmode: 'decimal',
    testid: 'target-value', required: true, value: String(m.target ?? '')});
  const reason = h('input', {type: 'text', testid: 'target-reason',
    required: true, maxlength: 500, placeholder: 'e.g. budget cut'});
  // A split goal's parts may follow it, each keeping its share.
  const rescale = goal.split ? h('input', {type: 'checkbox',
    testid: 'target-rescale', checked: true}) : null;
  const parts = goal.split === 'funnel' ? 'Scale the funnel\'s stages with it' :
    'Scale its parts\' targets with it, each keeping its share';
  return openDialog({
    title: 'Change target', testid: 'target-dialog',
    subtitle: `${goal.title} · now ${fmtValue(m.target, m.unit)}, ` +
      `from ${fmtValue(m.start, m.unit)}`,
    fields: [field(`New target${m.unit ? ` (${m.unit})` : ''}`, target),
      field('Reason', reason, 'Shown in the history and in the retrospective.'),
      rescale ? h('div', {class: 'field'}, h('label', {class: 'check'},
          rescale, ` ${parts}`), h('div', {class: 'hint'}, 'Otherwise the ' +
          'parts keep their targets and no longer add up to this one.')) :
        null],
    submitLabel: 'Save target', submitTestId: 'target-save', focus: target,
    onSubmit: async () => {
      const body = {measure: {target: Number(target.value)},
        reason: reason.value.trim()};
      if (rescale?.checked) body.rescale_parts = true;
      const res = await api.editGoal(goal.id, body);
      onSaved?.(res);
    },
  });
}

const NOTE_KINDS = [['highlight', 'Highlight: what went well'],
  ['cause', 'Cause: why something was missed or exceeded'],
  ['lesson', 'Lesson: what to keep doing or stop'],
  ['action', 'Action: what to do next cycle']];

/**
 * A retrospective note on a unit's cycle, about the cycle or one of its
 * goals (`goals`: [{id, title}]).
 */
export function openRetroNote({unit, unitName, cycle, cycleName, goals},
    onSaved) {
  const kind = h('select', {testid: 'note-kind'},
      NOTE_KINDS.map(([v, label]) => h('option', {value: v}, label)));
  const about = h('select', {testid: 'note-goal'},
      h('option', {value: ''}, 'The cycle as a whole'),
      goals.map((g) => h('option', {value: g.id}, g.title || g.id)));
  const text = h('textarea', {rows: 4, testid: 'note-text', required: true,
    maxlength: 2000, placeholder: 'e.g. Two agents left mid-quarter'});
  return openDialog({
    title: 'Add a note', testid: 'note-dialog',
    subtitle: `${unitName} · ${cycleName}`,
    fields: [field('Kind', kind), field('About', about), field('Note', text)],
    submitLabel: 'Save note', submitTestId: 'note-save', focus: text,
    onSubmit: async () => {
      const body = {unit, cycle, kind: kind.value, text: text.value.trim()};
      if (about.value) body.goal = about.value;
      const res = await api.addRetroNote(body);
      onSaved?.(res);
    },
  });
}

const DIRECTIONS = [['increase', 'Increase from start to target'],
  ['decrease', 'Decrease from start to target'],
  ['at_least', 'Keep at least the target'],
  ['at_most', 'Keep at most the target'],
  ['binary', 'Done or not']];
const PERSPECTIVES = ['financial', 'customer', 'internal', 'learning'];

/**
 * A new goal on a unit's board for a cycle, under one of the board's goals
 * (`goals`: [{id, title}]) or at the top. Objectives have no measure of
 * their own (their key results grade them); other kinds get one.
 */
export function openNewGoal({unit, unitName, cycle, cycleName, goals,
  metrics = []}, onSaved) {
  const kind = h('select', {testid: 'new-goal-kind'},
      Object.entries(KIND_LABEL).map(([v, label]) =>
        h('option', {value: v}, label)));
  kind.value = goals.length ? 'key_result' : 'objective';
  const title = h('input', {type: 'text', testid: 'new-goal-title',
    required: true, maxlength: 300,
    placeholder: 'e.g. Raise weekly active teams from 100 to 250'});
  const owner = h('input', {type: 'text', testid: 'new-goal-owner',
    maxlength: 100, placeholder: 'a person\'s handle'});
  const parent = h('select', {testid: 'new-goal-parent'},
      h('option', {value: ''}, 'None (top of the board)'),
      goals.map((g) => h('option', {value: g.id}, g.title || g.id)));
  const perspective = h('select', {testid: 'new-goal-perspective'},
      PERSPECTIVES.map((p) => h('option', {value: p}, p)));
  const num = (testid, value) => h('input', {type: 'number', step: 'any',
    inputmode: 'decimal', testid, value});
  const start = num('new-goal-start', '0');
  const target = num('new-goal-target', '');
  const measureUnit = h('input', {type: 'text', testid: 'new-goal-unit',
    maxlength: 40, placeholder: 'e.g. USD, %, teams'});
  const direction = h('select', {testid: 'new-goal-direction'},
      DIRECTIONS.map(([v, label]) => h('option', {value: v}, label)));
  // Its value from check-ins, or from a metric (its aggregate over the
  // cycle, counted as the metric counts it).
  const fedBy = h('select', {testid: 'new-goal-metric'},
      h('option', {value: ''}, 'Check-ins'),
      metrics.map((m) => h('option', {value: m.id},
          `The metric ${m.name || m.id}`)));
  const metricOf = () => metrics.find((m) => m.id === fedBy.value);
  fedBy.addEventListener('change', () => {
    if (metricOf()?.unit && !measureUnit.value) {
      measureUnit.value = metricOf().unit;
    }
  });
  const fedByField = field('Fed by', fedBy);
  const measured = h('div', {class: 'field-group'},
      field('Direction', direction), field('Start', start),
      field('Target', target), field('Unit', measureUnit),
      metrics.length ? fedByField : null);
  const perspectiveField = field('Perspective', perspective);
  const sync = () => {
    const objective = kind.value === 'objective';
    measured.hidden = objective;
    fedByField.hidden = direction.value === 'binary';
    target.required = !objective && direction.value !== 'binary';
    start.disabled = target.disabled = direction.value === 'binary';
    perspectiveField.hidden = kind.value !== 'bsc_objective';
  };
  kind.addEventListener('change', sync);
  direction.addEventListener('change', sync);
  sync();
  return openDialog({
    title: 'New goal', testid: 'new-goal-dialog',
    subtitle: `${unitName} · ${cycleName}`,
    fields: [field('Kind', kind), field('Title', title),
      field('Owner', owner), field('Under', parent), perspectiveField,
      measured],
    submitLabel: 'Create goal', submitTestId: 'new-goal-save', focus: title,
    onSubmit: async () => {
      const body = {kind: kind.value, title: title.value.trim(), unit, cycle};
      if (owner.value.trim()) body.owner = owner.value.trim();
      if (parent.value) body.parent = parent.value;
      if (kind.value === 'bsc_objective') body.perspective = perspective.value;
      if (kind.value !== 'objective') {
        body.measure = direction.value === 'binary' ?
          {start: 0, target: 1, direction: 'binary'} :
          {start: Number(start.value), target: Number(target.value),
            direction: direction.value};
        if (measureUnit.value.trim()) body.measure.unit = measureUnit.value.trim();
        const metric = direction.value === 'binary' ? null : metricOf();
        if (metric) {
          body.measure.metric = metric.id;
          body.measure.aggregate = metric.aggregate;
        }
      }
      const res = await api.createGoal(body);
      onSaved?.(res);
    },
  });
}

/**
 * Splits an increase goal into parts (POST /goals/{id}/decompose): by time
 * (one part per month, week or day of its cycle), by owners (a share per
 * unit and owner, by weight) or along a funnel (stages with conversion
 * rates, the last stage being the goal's target). `units`: [{id, name}].
 */
export function openSplit(goal, units, onSaved) {
  const by = h('select', {testid: 'split-by'},
      h('option', {value: 'time'}, 'By time: a part per period of the cycle'),
      h('option', {value: 'owners'}, 'By owners: a share per person or unit'),
      h('option', {value: 'funnel'}, 'Along a funnel: stages and rates'));
  const into = h('select', {testid: 'split-into'},
      ['month', 'week', 'day'].map((p) => h('option', {value: p}, p)));
  const workingDays = h('input', {type: 'checkbox', testid: 'split-working'});
  const integer = h('input', {type: 'checkbox', testid: 'split-integer',
    checked: true});
  const unitOptions = () => units.map((u) => h('option', {value: u.id},
      u.name || u.id));
  const rows = h('div', {class: 'split-rows', testid: 'split-rows'});
  const addRow = () => {
    const funnel = by.value === 'funnel';
    const first = rows.children.length === 0;
    const row = funnel ?
      h('div', {class: 'split-row funnel', testid: 'split-row'},
          h('input', {type: 'text', required: true, maxlength: 80,
            'aria-label': 'Stage', placeholder: 'stage, e.g. calls',
            dataset: {k: 'name'}}),
          first ? h('span', {class: 'muted'}, 'first stage') :
            h('input', {type: 'number', step: 'any', min: 0, max: 1,
              required: true, 'aria-label': 'Rate from the stage before',
              placeholder: 'rate, e.g. 0.2', dataset: {k: 'rate'}})) :
      h('div', {class: 'split-row', testid: 'split-row'},
          h('select', {'aria-label': 'Unit', dataset: {k: 'unit'}},
              unitOptions()),
          h('input', {type: 'text', maxlength: 100, 'aria-label': 'Owner',
            placeholder: 'owner', dataset: {k: 'owner'}}),
          h('input', {type: 'number', step: 'any', min: 0, required: true,
            'aria-label': 'Weight', placeholder: 'weight', value: '1',
            dataset: {k: 'weight'}}));
    const unit = row.querySelector('[data-k="unit"]');
    if (unit) unit.value = goal.unit;  // the goal's own unit to start with
    rows.append(row);
  };
  const add = h('button', {class: 'btn', type: 'button', testid: 'split-add'},
      'Add a row');
  add.addEventListener('click', addRow);
  const timeFields = h('div', {class: 'field-group'},
      field('Into', into),
      h('label', {class: 'check'}, workingDays, ' working days only (days)'));
  const rowFields = h('div', {class: 'field'}, rows, add);
  const sync = () => {
    timeFields.hidden = by.value !== 'time';
    rowFields.hidden = by.value === 'time';
    integerField.hidden = by.value === 'funnel';
    rows.replaceChildren();
    if (by.value !== 'time') {
      addRow();
      addRow();
    }
  };
  const integerField = h('label', {class: 'check'}, integer,
      ' whole-number shares that add up exactly');
  by.addEventListener('change', sync);
  sync();
  const m = goal.measure || {};
  return openDialog({
    title: 'Split into parts', testid: 'split-dialog',
    subtitle: `${goal.title} · ${fmtValue(m.start, m.unit)} to ` +
      `${fmtValue(m.target, m.unit)}`,
    fields: [field('How', by), timeFields, rowFields, integerField,
      h('p', {class: 'hint'}, 'A goal is split once. Its value then comes ' +
        'from its parts (a funnel\'s from its last stage), and check-ins go ' +
        'to the parts.')],
    submitLabel: 'Split', submitTestId: 'split-save', focus: by,
    onSubmit: async () => {
      const body = {by: by.value};
      const read = (row, k) => row.querySelector(`[data-k="${k}"]`)?.value;
      if (by.value === 'time') {
        body.into = into.value;
        if (workingDays.checked) body.working_days = true;
      } else if (by.value === 'owners') {
        body.parts = [...rows.children].map((row) => {
          const part = {unit: read(row, 'unit'),
            weight: Number(read(row, 'weight'))};
          if (read(row, 'owner')?.trim()) part.owner = read(row, 'owner').trim();
          return part;
        });
      } else {
        body.stages = [...rows.children].map((row, i) => (i === 0 ?
          {name: read(row, 'name').trim()} :
          {name: read(row, 'name').trim(), rate: Number(read(row, 'rate'))}));
      }
      if (by.value !== 'funnel' && integer.checked) body.integer = true;
      const res = await api.decompose(goal.id, body);
      onSaved?.(res);
    },
  });
}

// An id the server takes (lowercase letters and digits, then also . _ -; at
// most 64) made from a name: "Q1 2027" → "q1-2027".
export function idFromName(name) {
  return String(name).toLowerCase().normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
}

// What the server takes as an id or a token's name (IsValidId).
const ID_HINT = 'Lowercase letters, digits and . _ -';
function idInput(testid, placeholder) {
  return h('input', {type: 'text', testid, required: true, maxlength: 64,
    pattern: '[a-z0-9][a-z0-9._\\-]*', spellcheck: 'false',
    autocomplete: 'off', placeholder});
}

// A name field with an id field that follows it until the id is typed in.
function nameAndId(prefix, placeholder) {
  const name = h('input', {type: 'text', testid: `${prefix}-name`,
    required: true, maxlength: 200, placeholder});
  const id = idInput(`${prefix}-id`);
  let typed = false;
  id.addEventListener('input', () => {
    typed = id.value !== '';
  });
  name.addEventListener('input', () => {
    if (!typed) id.value = idFromName(name.value);
  });
  return {name, id};
}

const UNIT_KINDS = ['company', 'division', 'department', 'team', 'person'];
const KIND_BELOW = {company: 'department', division: 'department',
  department: 'team', team: 'person', person: 'person'};

/**
 * A new unit of the organisation (admins). `units`: the organisation so far,
 * [{id, name, kind, label?}], ordered as the pickers show them; `under`: the unit to
 * put it under by default. With no units yet, it is the company at the top.
 */
export function openNewUnit({units, under}, onSaved) {
  const {name, id} = nameAndId('new-unit', 'e.g. Customer Success');
  const first = units.length === 0;
  const parent = h('select', {testid: 'new-unit-parent'},
      units.map((u) => h('option', {value: u.id}, u.label || u.name || u.id)));
  if (units.some((u) => u.id === under)) parent.value = under;
  const kind = h('select', {testid: 'new-unit-kind'},
      UNIT_KINDS.map((k) => h('option', {value: k}, k)));
  const kindUnder = () => {
    const p = units.find((u) => u.id === parent.value);
    kind.value = first ? 'company' : KIND_BELOW[p?.kind] || 'team';
  };
  let kindTyped = false;
  kind.addEventListener('change', () => {
    kindTyped = true;
  });
  parent.addEventListener('change', () => {
    if (!kindTyped) kindUnder();
  });
  kindUnder();
  return openDialog({
    title: 'New unit', testid: 'new-unit-dialog',
    subtitle: first ? 'The first unit is the top of the organisation.' :
      'A company, division, department, team or person.',
    fields: [field('Name', name), field('Id', id,
        `${ID_HINT}; it never changes.`),
    field('Kind', kind), first ? null : field('Under', parent)],
    submitLabel: 'Create unit', submitTestId: 'new-unit-save', focus: name,
    onSubmit: async () => {
      const body = {id: id.value.trim(), name: name.value.trim(),
        kind: kind.value};
      if (!first) body.parent = parent.value;
      const res = await api.createUnit(body);
      onSaved?.(res);
    },
  });
}

const CYCLE_KINDS = ['year', 'half', 'quarter', 'month', 'week', 'day',
  'custom'];
const isoDay = (d) => d.toISOString().slice(0, 10);
const utcDay = (y, m, d) => new Date(Date.UTC(y, m, d));

// The period of `kind` that holds `day` (a Date at 00:00 UTC): [start, end].
export function periodOf(kind, day) {
  const y = day.getUTCFullYear();
  const m = day.getUTCMonth();
  const months = {year: 12, half: 6, quarter: 3, month: 1}[kind];
  if (months) {
    const first = utcDay(y, m - (m % months), 1);
    const next = utcDay(y, m - (m % months) + months, 1);
    return [first, new Date(next.getTime() - 86400000)];
  }
  if (kind === 'week') {  // Monday to Sunday
    const monday = new Date(day.getTime() -
        ((day.getUTCDay() + 6) % 7) * 86400000);
    return [monday, new Date(monday.getTime() + 6 * 86400000)];
  }
  return [day, day];
}

const SPAN_RANK = {year: 0, half: 1, quarter: 2, month: 3, week: 4, day: 5,
  custom: 6};

/**
 * A new cycle (admins): a year, half, quarter, month, week, day or custom
 * span. The dates follow the kind from today's period until typed in; it
 * sits within the smallest cycle that holds it, unless another is picked.
 * `cycles`: [{id, name, kind, start, end}].
 */
export function openNewCycle({cycles}, onSaved) {
  const {name, id} = nameAndId('new-cycle', 'e.g. Q1 2027');
  const kind = h('select', {testid: 'new-cycle-kind'},
      CYCLE_KINDS.map((k) => h('option', {value: k}, k)));
  kind.value = 'quarter';
  const start = h('input', {type: 'date', testid: 'new-cycle-start',
    required: true});
  const end = h('input', {type: 'date', testid: 'new-cycle-end',
    required: true});
  const parent = h('select', {testid: 'new-cycle-parent'},
      h('option', {value: ''}, 'None'),
      cycles.map((c) => h('option', {value: c.id}, c.name || c.id)));
  let datesTyped = false;
  let parentTyped = false;
  // This browser's today, as a date (periods are whole days).
  const today = new Date(`${localDay(new Date())}T00:00:00.000Z`);
  const pickParent = () => {
    if (parentTyped) return;
    const holds = cycles.filter((c) => c.start <= start.value &&
        end.value <= c.end && (c.start !== start.value || c.end !== end.value) &&
        (SPAN_RANK[c.kind] ?? 6) < (SPAN_RANK[kind.value] ?? 6));
    holds.sort((a, b) => (Date.parse(a.end) - Date.parse(a.start)) -
        (Date.parse(b.end) - Date.parse(b.start)));
    parent.value = holds[0]?.id || '';
  };
  const follow = () => {
    if (!datesTyped && kind.value !== 'custom') {
      const [s, e] = periodOf(kind.value, today);
      start.value = isoDay(s);
      end.value = isoDay(e);
    }
    pickParent();
  };
  kind.addEventListener('change', follow);
  for (const input of [start, end]) {
    input.addEventListener('input', () => {
      datesTyped = true;
      pickParent();
    });
  }
  parent.addEventListener('change', () => {
    parentTyped = true;
  });
  follow();
  return openDialog({
    title: 'New cycle', testid: 'new-cycle-dialog',
    subtitle: 'A period goals are set for and graded at its end.',
    fields: [field('Name', name), field('Id', id,
        `${ID_HINT}; it never changes.`),
    h('div', {class: 'field-group'}, field('Kind', kind),
        field('Start', start), field('End (the last day)', end)),
    field('Within', parent, 'A cycle within another lies inside its dates.')],
    submitLabel: 'Create cycle', submitTestId: 'new-cycle-save', focus: name,
    onSubmit: async () => {
      const body = {id: id.value.trim(), name: name.value.trim(),
        kind: kind.value, start: start.value, end: end.value};
      if (parent.value) body.parent = parent.value;
      const res = await api.createCycle(body);
      onSaved?.(res);
    },
  });
}

// The statuses a goal may move to from each (the server's rule; it refuses
// any other with its reason).
const NEXT_STATUS = {
  draft: ['proposed', 'active', 'dropped', 'archived'],
  proposed: ['active', 'draft', 'dropped', 'archived'],
  active: ['achieved', 'missed', 'dropped', 'archived', 'draft'],
  achieved: ['active', 'archived'],
  missed: ['active', 'archived'],
  dropped: ['active', 'archived'],
  archived: [],
};
const STATUS_LABEL = {
  draft: 'Draft: not committed to yet',
  proposed: 'Proposed: for the manager to approve',
  active: 'Active',
  achieved: 'Achieved',
  missed: 'Missed',
  dropped: 'Dropped: no longer pursued',
  archived: 'Archived: put away for good',
};

/** The statuses `goal` may move to, with labels; [] when none. */
export function nextStatuses(goal) {
  const from = goal.status || 'active';
  return (NEXT_STATUS[from] || []).map((to) => [to,
    to === 'active' && from === 'proposed' ? 'Active: approve it' :
    to === 'active' && from !== 'draft' ? 'Active: reopen it' :
    STATUS_LABEL[to]]);
}

/** A goal's status (POST /goals/{id}/status) with the reason, kept in its
 * history; a dropped goal's reason shows in the retrospective. */
export function openStatus(goal, onSaved) {
  const status = h('select', {testid: 'status-value'},
      nextStatuses(goal).map(([v, label]) => h('option', {value: v}, label)));
  const reason = h('input', {type: 'text', testid: 'status-reason',
    maxlength: 500, placeholder: 'e.g. merged into the churn goal'});
  return openDialog({
    title: 'Change status', testid: 'status-dialog',
    subtitle: `${goal.title} · now ${goal.status || 'active'}`,
    fields: [field('New status', status),
      field('Reason', reason,
          'Shown in the history; a dropped goal\'s in the retrospective.')],
    submitLabel: 'Save status', submitTestId: 'status-save', focus: status,
    onSubmit: async () => {
      const body = {status: status.value};
      if (reason.value.trim()) body.reason = reason.value.trim();
      const res = await api.setStatus(goal.id, body);
      onSaved?.(res);
    },
  });
}

/** Closes a cycle (POST /cycles/{id}/close): final grades are frozen. */
export function openCloseCycle(cycle, onSaved) {
  return openDialog({
    title: `Close ${cycle.name || cycle.id}`, testid: 'close-cycle-dialog',
    subtitle: `${cycle.start} – ${cycle.end}`,
    fields: [h('p', {}, 'Its goals\' grades are final from now on: check-ins ' +
      'on them are refused. The history and the retrospective stay as they ' +
      'are. It cannot be undone.')],
    submitLabel: 'Close the cycle', submitTestId: 'close-cycle-save',
    onSubmit: async () => {
      const res = await api.closeCycle(cycle.id);
      onSaved?.(res);
    },
  });
}

/**
 * A new access token (admins): name, role and the unit it is scoped to.
 * The secret is shown once, in this dialog, after it is made. `units`:
 * [{id, name, label?}].
 */
export function openNewToken({units}, onSaved) {
  const name = idInput('new-token-name', 'e.g. sales-wall or li-wei');
  const role = h('select', {testid: 'new-token-role'},
      [['viewer', 'Viewer: reads'],
        ['editor', 'Editor: also goals, check-ins, notes'],
        ['admin', 'Admin: also units, cycles, tokens']]
          .map(([v, label]) => h('option', {value: v}, label)));
  const unit = h('select', {testid: 'new-token-unit'},
      h('option', {value: ''}, 'The whole organisation'),
      units.map((u) => h('option', {value: u.id}, u.label || u.name || u.id)));
  let made = null;
  const dialog = openDialog({
    title: 'New token', testid: 'new-token-dialog',
    subtitle: 'Whoever holds it acts under its name in the history.',
    fields: [field('Name', name, `${ID_HINT}.`),
      field('Role', role), field('Sees', unit)],
    submitLabel: 'Create token', submitTestId: 'new-token-save', focus: name,
    onSubmit: async () => {
      const body = {name: name.value.trim(), role: role.value};
      if (unit.value) body.unit = unit.value;
      made = await api.createToken(body);
    },
  });
  // Once made, show the secret (this once) instead of closing quietly.
  dialog.addEventListener('close', () => {
    if (!made) return;
    const secret = h('input', {type: 'text', readonly: true,
      testid: 'token-secret', value: made.token});
    const copy = h('button', {class: 'btn', type: 'button',
      testid: 'token-copy'}, 'Copy');
    copy.addEventListener('click', async () => {
      secret.select();
      try {
        await navigator.clipboard.writeText(made.token);
        copy.textContent = 'Copied';
      } catch { /* selected: the user copies it */ }
    });
    const shown = openDialog({
      title: `Token ${made.name}`, testid: 'token-made-dialog',
      subtitle: `${made.role}${made.unit ? ` · ${made.unit}` : ''}`,
      fields: [field('Token', secret, 'Copy it now: it is stored only ' +
        'hashed and cannot be shown again.'),
      h('div', {class: 'head-actions'}, copy)],
      submitLabel: 'Done', submitTestId: 'token-done', focus: secret,
      onSubmit: async () => {}, cancellable: false,
    });
    shown.addEventListener('close', () => onSaved?.(made));
  });
  return dialog;
}

/** Revokes a token: its holder is refused from the next request on. */
export function openRevokeToken(token, onSaved) {
  return openDialog({
    title: `Revoke ${token.name}`, testid: 'revoke-token-dialog',
    subtitle: `${token.role}${token.unit ? ` · ${token.unit}` : ''}`,
    fields: [h('p', {}, 'Its holder is refused from the next request on, ' +
      'and its live boards are closed. It cannot be undone; make a new ' +
      'token instead.')],
    submitLabel: 'Revoke', submitTestId: 'revoke-token-save',
    onSubmit: async () => {
      await api.revokeToken(token.name);
      onSaved?.();
    },
  });
}

/**
 * Edits a goal's own fields (PATCH /goals/{id}: only those changed are
 * sent, and the server appends only what really changed) with a reason,
 * kept in the history. The target has its own dialog; the measure's other
 * members, the unit and cycle stay as they are.
 */
export function openEditGoal(goal, onSaved) {
  const title = h('input', {type: 'text', testid: 'edit-goal-title',
    required: true, maxlength: 300, value: goal.title || ''});
  const description = h('textarea', {rows: 3, testid: 'edit-goal-description',
    maxlength: 4000});
  description.value = goal.description || '';
  const owner = h('input', {type: 'text', testid: 'edit-goal-owner',
    maxlength: 100, value: goal.owner || '', placeholder: 'a person\'s handle'});
  const weight = h('input', {type: 'number', step: 'any', min: 0,
    testid: 'edit-goal-weight', required: true,
    value: String(goal.weight ?? 1)});
  const due = h('input', {type: 'date', testid: 'edit-goal-due',
    value: goal.due || ''});
  const committed = h('input', {type: 'checkbox', testid: 'edit-goal-committed',
    checked: Boolean(goal.committed)});
  const reason = h('input', {type: 'text', testid: 'edit-goal-reason',
    maxlength: 500, placeholder: 'e.g. Bob moved to the platform team'});
  return openDialog({
    title: 'Edit goal', testid: 'edit-goal-dialog', subtitle: goal.title,
    fields: [field('Title', title), field('Description', description),
      h('div', {class: 'field-group'}, field('Owner', owner),
          field('Weight', weight), field('Due', due)),
      h('label', {class: 'check'}, committed,
          ' committed (graded against 1.0, not 0.7)'),
      field('Reason', reason, 'Shown in the history.')],
    submitLabel: 'Save', submitTestId: 'edit-goal-save', focus: title,
    onSubmit: async () => {
      const body = {};
      const text = (v) => v.trim();
      if (text(title.value) !== (goal.title || '')) body.title = text(title.value);
      if (text(description.value) !== (goal.description || '')) {
        body.description = text(description.value);
      }
      if (text(owner.value) !== (goal.owner || '')) body.owner = text(owner.value);
      if (Number(weight.value) !== Number(goal.weight ?? 1)) {
        body.weight = Number(weight.value);
      }
      if (due.value !== (goal.due || '')) body.due = due.value || null;
      if (committed.checked !== Boolean(goal.committed)) {
        body.committed = committed.checked;
      }
      if (!Object.keys(body).length) return;  // nothing changed
      if (text(reason.value)) body.reason = text(reason.value);
      const res = await api.editGoal(goal.id, body);
      onSaved?.(res);
    },
  });
}

/**
 * Renames a unit or moves it under another (admins; PATCH /units/{id}). A
 * move that would put a unit under itself is offered nowhere and refused
 * by the server. `units`: the organisation, [{id, name, parent, label?}].
 */
export function openEditUnit(unit, units, onSaved) {
  const name = h('input', {type: 'text', testid: 'edit-unit-name',
    required: true, maxlength: 200, value: unit.name || ''});
  const below = new Set([unit.id]);
  for (let grew = true; grew;) {  // the unit and every unit under it
    grew = false;
    for (const u of units) {
      if (u.parent && below.has(u.parent) && !below.has(u.id)) {
        below.add(u.id);
        grew = true;
      }
    }
  }
  const top = !unit.parent;
  const parent = h('select', {testid: 'edit-unit-parent'},
      units.filter((u) => !below.has(u.id)).map((u) =>
        h('option', {value: u.id}, u.label || u.name || u.id)));
  if (!top) parent.value = unit.parent;
  return openDialog({
    title: `Edit ${unit.name || unit.id}`, testid: 'edit-unit-dialog',
    subtitle: `${unit.kind} · ${unit.id}; its goals and history stay with it.`,
    fields: [field('Name', name), top ? null : field('Under', parent,
        'Moving a unit moves everything under it.')],
    submitLabel: 'Save', submitTestId: 'edit-unit-save', focus: name,
    onSubmit: async () => {
      const body = {};
      if (name.value.trim() !== (unit.name || '')) body.name = name.value.trim();
      if (!top && parent.value !== unit.parent) body.parent = parent.value;
      if (!Object.keys(body).length) return;
      const res = await api.editUnit(unit.id, body);
      onSaved?.(res);
    },
  });
}

const AGGREGATES = [['last', 'Last: the latest value'],
  ['sum', 'Sum: values added up'], ['avg', 'Average'],
  ['min', 'Lowest'], ['max', 'Highest']];

/**
 * A new metric (editors): a KPI that other systems, or people here, feed
 * with values; goals bound to it take its aggregate over their cycle.
 */
export function openNewMetric(onSaved) {
  const {name, id} = nameAndId('new-metric', 'e.g. Customer acquisition cost');
  const unit = h('input', {type: 'text', testid: 'new-metric-unit',
    maxlength: 32, placeholder: 'e.g. USD or %'});
  const aggregate = h('select', {testid: 'new-metric-aggregate'},
      AGGREGATES.map(([v, label]) => h('option', {value: v}, label)));
  return openDialog({
    title: 'New metric', testid: 'new-metric-dialog',
    subtitle: 'Values come from other systems (POST /api/v1/metrics/{id}/' +
      'values) or are entered here.',
    fields: [field('Name', name), field('Id', id,
        `${ID_HINT}; systems feed it by this id.`), field('Unit', unit),
    field('Aggregate', aggregate, 'How a goal fed by it counts the ' +
        'values in the goal\'s cycle.')],
    submitLabel: 'Create metric', submitTestId: 'new-metric-save', focus: name,
    onSubmit: async () => {
      const body = {id: id.value.trim(), name: name.value.trim(),
        aggregate: aggregate.value};
      if (unit.value.trim()) body.unit = unit.value.trim();
      onSaved?.(await api.defineMetric(body));
    },
  });
}

/** One value of a metric, entered by hand, dated today or an earlier day. */
export function openRecordValue(metric, onSaved) {
  const value = h('input', {type: 'number', step: 'any', inputmode: 'decimal',
    testid: 'metric-value', required: true,
    value: metric.last ? String(metric.last.value) : ''});
  const today = localDay(new Date());
  const day = h('input', {type: 'date', testid: 'metric-day', max: today,
    value: today, required: true});
  return openDialog({
    title: 'Record a value', testid: 'metric-value-dialog',
    subtitle: `${metric.name || metric.id}` +
      (metric.last ? ` · last ${fmtValue(metric.last.value, metric.unit)} ` +
        `on ${fmtDateTime(metric.last.ts)}` : ' · no values yet'),
    fields: [field(`Value${metric.unit ? ` (${metric.unit})` : ''}`, value),
      field('As of', day, 'An earlier day for a value reported late.')],
    submitLabel: 'Record value', submitTestId: 'metric-value-save',
    focus: value,
    onSubmit: async () => {
      // Today: now; an earlier day: the end of that day, here.
      const ts = day.value && day.value < today ?
        new Date(`${day.value}T23:59:59`) : new Date();
      onSaved?.(await api.recordMetric(metric.id, {
        points: [{ts: ts.toISOString(), value: Number(value.value)}],
        source: 'browser'}));
    },
  });
}
