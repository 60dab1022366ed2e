// The one module that owns the websocket: lifecycle (hello → identify/resume →
// ready), heartbeats both ways, refs → pending promises, reconnect with backoff
// and resume from the last seq seen on each stream, dedupe by seq.

const CLOSE_AUTH_FAILED = 4003;

export class Gateway extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.token = null;
    this.name = null;
    this.lastSeq = new Map(); // stream -> last seq delivered to the UI
    this.pending = new Map(); // ref -> {resolve, reject, frame}
    this.nextRef = 1;
    this.attempt = 0;
    this.state = "idle";
    this.heartbeatTimer = null;
    this.awaitingAck = false;
    this.limits = null;
  }

  // Start (or restart) a session: with a stored token, or a new display name.
  start({ token = null, name = null }) {
    this.token = token;
    this.name = name;
    this.connect();
  }

  connect() {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("message", (e) => this.onFrame(ws, e.data));
    ws.addEventListener("close", (e) => this.onClose(ws, e));
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // Send a command; resolves with its ack/history reply, rejects with its error.
  // Commands sent while disconnected are resent (same ref) after the resume.
  command(type, fields) {
    const ref = `${Date.now().toString(36)}-${this.nextRef++}`;
    const frame = { type, ref, ...fields };
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject, frame });
      if (this.state === "live") this.send(frame);
    });
  }

  onFrame(ws, data) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    this.awaitingAck = false;
    switch (frame.type) {
      case "hello":
        this.limits = frame.limits;
        this.startHeartbeats(frame.heartbeat_interval_ms);
        if (this.token && this.lastSeq.size > 0) {
          this.send({ type: "resume", token: this.token, streams: Object.fromEntries(this.lastSeq) });
        } else if (this.token) {
          this.send({ type: "identify", token: this.token });
        } else {
          this.send({ type: "identify", name: this.name });
        }
        break;
      case "ready":
        this.attempt = 0;
        this.token = frame.session.token;
        this.dispatchEvent(new CustomEvent("ready", { detail: frame }));
        for (const sync of frame.syncs) this.applySync(sync);
        this.setState("live");
        for (const { frame: pendingFrame } of this.pending.values()) this.send(pendingFrame);
        break;
      case "event":
        this.applyEvent(frame);
        break;
      case "ack":
      case "history": {
        if (frame.sync) this.applySync(frame.sync);
        this.settle(frame.ref, "resolve", frame);
        break;
      }
      case "error":
        if (frame.ref && this.pending.has(frame.ref)) this.settle(frame.ref, "reject", frame);
        else this.dispatchEvent(new CustomEvent("servererror", { detail: frame }));
        break;
      default:
        break; // heartbeat_ack and frames from newer servers
    }
  }

  settle(ref, how, frame) {
    const waiter = this.pending.get(ref);
    if (!waiter) return;
    this.pending.delete(ref);
    waiter[how](frame);
  }

  applySync(sync) {
    if (sync.mode === "snapshot" && !sync.snapshot) {
      this.lastSeq.delete(sync.stream); // unknown stream: forget it
      this.dispatchEvent(new CustomEvent("gone", { detail: sync }));
      return;
    }
    if (sync.mode === "snapshot") {
      this.lastSeq.set(sync.stream, sync.seq);
      this.dispatchEvent(new CustomEvent("snapshot", { detail: sync }));
      return;
    }
    for (const event of sync.events || []) this.applyEvent(event);
    this.lastSeq.set(sync.stream, Math.max(this.lastSeq.get(sync.stream) || 0, sync.seq));
  }

  applyEvent(event) {
    const last = this.lastSeq.get(event.stream);
    if (last === undefined || event.seq <= last) return; // not followed, or already have it
    this.lastSeq.set(event.stream, event.seq);
    this.dispatchEvent(new CustomEvent("event", { detail: event }));
  }

  follow(stream, seq) {
    this.lastSeq.set(stream, seq);
  }

  unfollow(stream) {
    this.lastSeq.delete(stream);
  }

  startHeartbeats(intervalMs) {
    clearInterval(this.heartbeatTimer);
    const ws = this.ws;
    this.awaitingAck = false;
    this.heartbeatTimer = setInterval(() => {
      if (ws !== this.ws) return;
      if (this.awaitingAck) {
        ws.close(4000, "no heartbeat_ack"); // the server is silent: reconnect
        this.onClose(ws, { code: 1006 });
        return;
      }
      this.awaitingAck = true;
      this.send({ type: "heartbeat" });
    }, intervalMs);
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearInterval(this.heartbeatTimer);
    if (event.code === CLOSE_AUTH_FAILED) {
      this.token = null;
      this.lastSeq.clear();
      this.setState("signed-out", { code: event.code });
      return;
    }
    this.attempt += 1;
    const delay = Math.min(10000, 250 * 2 ** Math.min(this.attempt, 6)) * (0.5 + Math.random() / 2);
    this.setState("reconnecting", { code: event.code, retryInMs: Math.round(delay) });
    setTimeout(() => this.connect(), delay);
  }
}
