// REST client for /api/v1: bearer token from localStorage, JSON in and out,
// errors as ApiError carrying the server's {code, message, field}.

import {viewAsOf} from './util.js';

const TOKEN_KEY = 'cairn.token';
const BASE = '/api/v1';
// Reads that are about now whatever moment the pages show: who is signed
// in, the log's events (the audit trail) and the tokens.
const ALWAYS_NOW = ['/me', '/events', '/tokens'];

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || 'http_' + status;
    this.field = err.field || null;
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

/** Listeners told when the server refuses the token (401). */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One request. `query` values that are null/undefined/'' are left out.
 * `idempotent: true` adds an Idempotency-Key so a retried write applies once.
 * `quiet: true` keeps a 401 from signing the browser out (token checks).
 */
export async function request(method, path, {query, body, token, idempotent,
  signal, quiet} = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== null && v !== undefined && v !== '') url.searchParams.set(k, v);
  }
  // A state read shows the moment the pages show, unless it names one.
  if (method === 'GET' && viewAsOf() && !url.searchParams.has('as_of') &&
      !ALWAYS_NOW.some((p) => path === p || path.startsWith(p + '/'))) {
    url.searchParams.set('as_of', viewAsOf());
  }
  const headers = {'Authorization': `Bearer ${token ?? getToken()}`,
    'Accept': 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotent) headers['Idempotency-Key'] = newKey();
  let res;
  try {
    res = await fetch(url, {method, headers, signal,
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, {error: {code: 'unavailable',
      message: 'The server cannot be reached.'}});
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !quiet) unauthorizedListeners.forEach((fn) => fn());
    throw new ApiError(res.status, data);
  }
  return data;
}

const enc = encodeURIComponent;
const list = (value, key) => (Array.isArray(value) ? value : (value?.[key] ?? []));

export const api = {
  me: () => request('GET', '/me'),
  events: ({from, limit} = {}) => request('GET', '/events',
      {query: {from, limit}}),
  // The position of the log's last event at or before `asOf` (a time): any
  // state read answers with it; the cycles list is a small one.
  positionAt: async (asOf) =>
    (await request('GET', '/cycles', {query: {as_of: asOf}})).position,
  units: async (opts) => list(await request('GET', '/units', opts), 'units'),
  cycles: async (opts) => list(await request('GET', '/cycles', opts), 'cycles'),
  cycle: (id) => request('GET', `/cycles/${enc(id)}`),
  // Goals proposed for the editors of `unit` to approve (any cycle).
  awaitingApproval: async (unit) => list(await request('GET', '/goals',
      {query: {status: 'proposed', approver: unit}}), 'goals'),
  goal: (id, asOf) => request('GET', `/goals/${enc(id)}`, {query: {as_of: asOf}}),
  history: (id) => request('GET', `/goals/${enc(id)}/history`),
  metrics: async () => list(await request('GET', '/metrics'), 'metrics'),
  metric: (id, from, to) =>
    request('GET', `/metrics/${enc(id)}`, {query: {from, to}}),
  defineMetric: (body) => request('POST', '/metrics', {body, idempotent: true}),
  recordMetric: (id, body) => request('POST', `/metrics/${enc(id)}/values`,
      {body, idempotent: true}),
  board: (unit, cycle, {asOf, depth, signal} = {}) =>
    request('GET', `/boards/${enc(unit)}`,
        {query: {cycle, depth, as_of: asOf}, signal}),
  scorecard: (unit, cycle) =>
    request('GET', `/scorecards/${enc(unit)}`, {query: {cycle}}),
  diff: (unit, cycle, from, to, {signal} = {}) =>
    request('GET', '/diff', {query: {unit, cycle, from, to}, signal}),
  retro: (unit, cycle, asOf) =>
    request('GET', '/retro', {query: {unit, cycle, as_of: asOf}}),
  decompose: (id, body) => request('POST', `/goals/${enc(id)}/decompose`,
      {body, idempotent: true}),
  createGoal: (body) => request('POST', '/goals', {body, idempotent: true}),
  createUnit: (body) => request('POST', '/units', {body, idempotent: true}),
  editUnit: (id, body) => request('PATCH', `/units/${enc(id)}`,
      {body, idempotent: true}),
  createCycle: (body) => request('POST', '/cycles', {body, idempotent: true}),
  closeCycle: (id) => request('POST', `/cycles/${enc(id)}/close`,
      {idempotent: true}),
  tokens: () => request('GET', '/tokens'),
  createToken: (body) => request('POST', '/tokens', {body, idempotent: true}),
  revokeToken: (name) => request('DELETE', `/tokens/${enc(name)}`,
      {idempotent: true}),
  setStatus: (id, body) => request('POST', `/goals/${enc(id)}/status`,
      {body, idempotent: true}),
  addRetroNote: (body) => request('POST', '/retro/notes',
      {body, idempotent: true}),
  checkIn: (id, body) => request('POST', `/goals/${enc(id)}/check-ins`,
      {body, idempotent: true}),
  editGoal: (id, body) => request('PATCH', `/goals/${enc(id)}`,
      {body, idempotent: true}),
};
