// Access tokens (admins): who may read or write what. Tokens are stored
// hashed; a new one's secret is shown once, in the dialog that made it.
// Creating and revoking are events, so the log audits them too.
import {h, table, tableHead, viewSlot} from '../util.js';
import {api} from '../api.js';
import {openNewToken, openRevokeToken} from './dialogs.js';

export async function renderTokens(container, ctx) {
  const place = viewSlot(container);
  const {tokens = []} = await api.tokens();
  const unitName = (id) => ctx.units.find((u) => u.id === id)?.name || id;
  const again = () => renderTokens(container, ctx);
  tokens.sort((a, b) => Number(a.revoked) - Number(b.revoked) ||
      String(a.name).localeCompare(String(b.name)));
  place(
      h('header', {class: 'page-head'},
          h('div', {}, h('h1', {}, 'Access tokens'),
              h('p', {class: 'muted'}, 'Viewers read; editors also write ' +
                'goals, check-ins and notes; admins also units, cycles and ' +
                'tokens. A token scoped to a unit sees only that unit and ' +
                'the units under it.')),
          h('div', {class: 'head-actions'},
              h('button', {class: 'btn primary', type: 'button',
                testid: 'new-token', onclick: () => openNewToken(
                    {units: ctx.unitOptions()}, again)}, 'New token'))),
      h('section', {class: 'panel'},
          tokens.length ? table({testid: 'tokens'},
              tableHead(['Name', 'Role', 'Sees', 'State', '']),
              h('tbody', {}, tokens.map((t) => h('tr',
                  {testid: `token-${t.name}`,
                    class: t.revoked ? 'revoked' : ''},
                  h('td', {}, t.name),
                  h('td', {}, t.role),
                  h('td', {}, t.unit ? unitName(t.unit) :
                    'The whole organisation'),
                  h('td', {testid: 'token-state'},
                      t.revoked ? 'Revoked' : 'Active'),
                  h('td', {}, t.revoked ? null : h('button', {class: 'btn',
                    type: 'button', testid: 'token-revoke',
                    onclick: () => openRevokeToken(t, again)}, 'Revoke')))))) :
            h('p', {class: 'muted'}, 'No tokens yet besides the start-up ' +
              'admin token.')));
}
