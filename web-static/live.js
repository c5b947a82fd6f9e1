// WebSocket client for /api/v1/live: one board subscription that survives
// drops. It reconnects with exponential backoff (with jitter), resumes from
// the last position it saw together with the store's epoch, and drops any
// event whose position it has already applied, so the board sees every event
// exactly once and in order.

let subCounter = 0;

/** Connection states shown by the live indicator. */
export const LiveState = Object.freeze({
  CONNECTING: 'connecting',   // first connection attempt
  CATCHING_UP: 'catching_up', // subscribed, backlog arriving, not synced yet
  LIVE: 'live',               // synced: events arrive as they happen
  RECONNECTING: 'reconnecting', // dropped, waiting to try again
  STOPPED: 'stopped',
});

const PING_EVERY_MS = 15000;
const SILENCE_LIMIT_MS = 40000;
const BACKOFF_FIRST_MS = 150;
const BACKOFF_MAX_MS = 4000;
const CLOSE_TOKEN_REVOKED = 4001;  // the server: this token was revoked

export class LiveClient {
  /**
   * options: {token, unit, cycle, depth, from (position the board was read
   * at), epoch?, onEvent(msg), onSnapshot(board, position), onState(state,
   * info), onRevoked() (the token was revoked: closed for good)}.
   */
  constructor(options) {
    this.opts = options;
    this.token = options.token;
    this.position = options.from ?? null;
    this.epoch = options.epoch ?? null;
    this.state = LiveState.STOPPED;
    this.attempts = 0;
    this.reconnects = 0;
    this.ws = null;
    this.sub = null;
    this.timers = {};
    this.lastHeard = 0;
    this.onOnline = () => this.kick();
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.kick();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.setState(LiveState.CONNECTING);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    for (const t of Object.values(this.timers)) clearTimeout(t);
    clearInterval(this.timers.ping);
    if (this.ws) {
      this.ws.onclose = null;
      try {
        this.ws.close(1000, 'leaving');
      } catch { /* already closed */ }
    }
    this.ws = null;
    this.setState(LiveState.STOPPED);
  }

  /** Reconnect now if we are waiting in backoff. */
  kick() {
    if (this.stopped || this.state !== LiveState.RECONNECTING) return;
    clearTimeout(this.timers.retry);
    this.attempts = 0;
    this.connect();
  }

  setState(state, info = {}) {
    this.state = state;
    this.opts.onState?.(state, {position: this.position, epoch: this.epoch,
      reconnects: this.reconnects, ...info});
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/api/v1/live?access_token=` +
        encodeURIComponent(this.token);
  }

  connect() {
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.sub = `b${++subCounter}`;
    ws.onopen = () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify(this.subscribeMessage(false)));
      this.setState(LiveState.CATCHING_UP);
      clearInterval(this.timers.ping);
      this.timers.ping = setInterval(() => this.heartbeat(), PING_EVERY_MS);
    };
    ws.onmessage = (e) => {
      this.lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(msg);
    };
    ws.onclose = (e) => {
      clearInterval(this.timers.ping);
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      if (e.code === CLOSE_TOKEN_REVOKED) {
        // Reconnecting would be refused: the page signs out instead.
        this.stop();
        this.opts.onRevoked?.();
        return;
      }
      this.scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  /**
   * Ask for the board again through the open connection: a new
   * subscription with a snapshot at the head, the old one dropped. Pages
   * watching one board that ask after the same event get one rendering,
   * shared by the server. False when not connected (the resume on reconnect
   * brings what changed).
   */
  resnapshot() {
    const ws = this.ws;
    if (this.stopped || !ws || ws.readyState !== WebSocket.OPEN ||
        this.state !== LiveState.LIVE) {
      return false;
    }
    const old = this.sub;
    this.sub = `b${++subCounter}`;
    ws.send(JSON.stringify({op: 'unsubscribe', sub: old}));
    ws.send(JSON.stringify(this.subscribeMessage(true)));
    return true;
  }

  subscribeMessage(snapshot) {
    const msg = {op: 'subscribe', sub: this.sub, unit: this.opts.unit,
      cycle: this.opts.cycle, depth: this.opts.depth ?? 0};
    if (snapshot || this.position === null) {
      msg.snapshot = true;
    } else {
      msg.from = this.position;
      msg.snapshot = false;
      if (this.epoch) msg.epoch = this.epoch;
    }
    return msg;
  }

  heartbeat() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      ws.close(4000, 'silent');
      return;
    }
    ws.send(JSON.stringify({op: 'ping'}));
  }

  scheduleRetry() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempts);
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.attempts++;
    this.reconnects++;
    this.setState(LiveState.RECONNECTING, {retryInMs: delay});
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  handle(msg) {
    if (msg.sub && msg.sub !== this.sub) return; // an earlier subscription
    switch (msg.op) {
      case 'snapshot':
        this.position = msg.position;
        this.opts.onSnapshot?.(msg.board, msg.position);
        break;
      case 'event':
        if (this.position !== null && msg.position <= this.position) return;
        this.position = msg.position;
        this.opts.onEvent?.(msg);
        break;
      case 'synced':
        if (msg.epoch) this.epoch = msg.epoch;
        if (typeof msg.position === 'number' &&
            (this.position === null || msg.position > this.position)) {
          this.position = msg.position;
        }
        this.attempts = 0;
        this.setState(LiveState.LIVE);
        break;
      case 'error':
        this.opts.onError?.(msg.error || {});
        break;
      default:
        break; // pong and anything newer
    }
  }
}
