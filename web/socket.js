// The one module that owns the websocket: lifecycle (hello → identify/resume →
// ready), heartbeats both ways, refs → pending promises, reconnect with backoff
// and resume from the last seq seen on each stream, dedupe by seq.
//
// A dead link is noticed by the client itself: when nothing has been heard for
// SILENCE_MS it sends a heartbeat, and if no frame comes back within ACK_DEADLINE_MS
// it reconnects. A hidden tab's timers are throttled (to about once a minute), so
// there the deadline is the server's heartbeat interval and the tab probes again as
// soon as it is visible. The browser's offline/online events are believed at once:
// offline stops retrying, online reconnects without waiting out the backoff.
//
// Who we are comes from the session cookie the upgrade carries (set by sign-in,
// sign-up or a guest link); the socket only says which community it enters.

import { ClockSampler, setServerTime } from "./clock.js";

const CLOSE = {
  AUTH_FAILED: 4003, // the session ended (expired, account deleted): sign in again
  SESSION_REVOKED: 4008, // signed out or revoked: sign in again
  ROLE_CHANGED: 4009, // reconnect and resume at once: the new role comes in ready
  REMOVED: 4010, // removed from the community: do not reconnect
};

const TICK_MS = 1000;
const SILENCE_MS = 2500; // quiet this long while visible: ask the server if it is there
const ACK_DEADLINE_MS = 3500; // no frame this long after asking: the link is dead
const HELLO_DEADLINE_MS = 10000; // a socket that says nothing this long after opening is given up

const visible = () => typeof document === "undefined" || document.visibilityState !== "hidden";

export class Gateway extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.community = null;
    this.lastSeq = new Map(); // stream -> last seq delivered to the UI
    this.followed = new Set(); // streams opened by follow(): not resumed, followed again
    this.pending = new Map(); // ref -> {resolve, reject, frame}
    this.nextRef = 1;
    this.attempt = 0;
    this.state = "idle";
    this.heartbeatTimer = null;
    this.retryTimer = null;
    this.helloTimer = null;
    this.heartbeatEvery = 15000; // the server's interval, from hello
    this.lastHeard = 0; // when the current socket last delivered a frame
    this.lastBeat = 0; // when we last sent a heartbeat
    this.probeSince = 0; // a heartbeat is unanswered since then (0: none)
    this.clock = new ClockSampler(); // heartbeats that sample the server's clock
    this.limits = null;
    this.session = null;
    if (typeof window !== "undefined") {
      window.addEventListener("offline", () => this.wentOffline());
      window.addEventListener("online", () => this.cameOnline());
      document.addEventListener("visibilitychange", () => { if (visible()) this.tick(true); });
    }
  }

  // The network is gone (the browser says so): stop trying until it comes back. Pending
  // commands stay pending; they are resent with their refs after the resume.
  wentOffline() {
    if (!this.community && this.state === "idle") return;
    if (!["live", "connecting", "reconnecting"].includes(this.state)) return;
    this.drop();
    this.setState("offline");
  }

  // The network is back: reconnect now, not after the backoff delay.
  cameOnline() {
    if (this.state !== "offline" && this.state !== "reconnecting") return;
    this.drop();
    this.attempt = 0;
    this.connect();
  }

  // Enter a community (or, for a guest, their one room's community) from scratch.
  start({ community = null } = {}) {
    this.drop();
    this.community = community;
    this.lastSeq.clear();
    this.followed.clear();
    this.attempt = 0;
    this.connect();
  }

  // Close and stay closed (signing out, leaving the app).
  stop(state = "idle", detail = {}) {
    this.drop();
    this.lastSeq.clear();
    this.followed.clear();
    this.session = null;
    this.failPending(detail.reason || "disconnected");
    this.setState(state, detail);
  }

  // Close and resume at once (e.g. after a rename, so the server knows the new name).
  reconnect() {
    if (!this.ws && this.state !== "reconnecting" && this.state !== "offline") return;
    this.drop();
    this.attempt = 0;
    this.connect();
  }

  drop() {
    clearTimeout(this.retryTimer);
    clearTimeout(this.helloTimer);
    this.clock.stop();
    clearInterval(this.heartbeatTimer);
    this.probeSince = 0;
    const ws = this.ws;
    this.ws = null; // its close event is ignored from here on
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.setState("offline"); // the online event reconnects
      return;
    }
    this.setState(this.attempt === 0 && this.lastSeq.size === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    // A black-holed connect can hang for minutes: give up on it and try again.
    clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => {
      if (ws !== this.ws) return;
      ws.close();
      this.onClose(ws, { code: 1006, reason: "no answer from the server" });
    }, HELLO_DEADLINE_MS);
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
  // Commands sent while disconnected are resent (same ref) after the resume. The
  // outbox passes its own ref, kept across reloads, so a resend is never applied twice.
  command(type, fields, ref = `${Date.now().toString(36)}-${this.nextRef++}`) {
    const frame = { type, ref, ...fields };
    return new Promise((resolve, reject) => {
      if (this.state === "idle" || this.state === "signed-out" || this.state === "removed") {
        reject({ code: "closed", message: "Not connected" });
        return;
      }
      this.pending.set(ref, { resolve, reject, frame });
      if (this.state === "live") this.send(frame);
    });
  }

  // An ephemeral frame to those present in a stream (typing…). Fire and forget: sent only
  // while live, never queued or resent. Its "relay:" ref marks the reply as one nobody
  // waits for: a refusal (rate limited, timed out) is dropped quietly, not shown.
  relay(stream, kind, data) {
    if (this.state !== "live") return false;
    const frame = { type: "relay", ref: `relay:${this.nextRef++}`, stream, kind };
    if (data) frame.data = data;
    this.send(frame);
    return true;
  }

  failPending(message) {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject({ code: "closed", message });
  }

  onFrame(ws, data) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    this.lastHeard = Date.now();
    this.probeSince = 0; // any frame shows the link is alive
    switch (frame.type) {
      case "hello": {
        clearTimeout(this.helloTimer);
        setServerTime(frame.server_time_ms);
        this.limits = frame.limits;
        this.clock.reset();
        this.startHeartbeats(frame.heartbeat_interval_ms);
        this.beat(true); // at once: its round trip tells the server's clock better than hello
        const community = this.community || undefined;
        this.dropFollowed();
        if (this.lastSeq.size > 0) {
          this.send({ type: "resume", community, streams: Object.fromEntries(this.lastSeq) });
        } else {
          this.send({ type: "identify", community });
        }
        break;
      }
      case "ready":
        this.attempt = 0;
        this.session = frame.session;
        this.sampleClock();
        this.dispatchEvent(new CustomEvent("ready", { detail: frame }));
        for (const sync of frame.syncs) this.applySync(sync);
        this.setState("live");
        for (const { frame: pendingFrame } of this.pending.values()) this.send(pendingFrame);
        break;
      case "event":
        this.applyEvent(frame);
        break;
      case "unsubscribed": // our role changed, or we were removed: no more of that stream
        this.lastSeq.delete(frame.stream);
        this.dispatchEvent(new CustomEvent("gone", { detail: frame }));
        break;
      case "relayed": // ephemeral (typing…): never stored, so no seq and nothing to resume
        this.dispatchEvent(new CustomEvent("relayed", { detail: frame }));
        break;
      case "ack":
      case "history": {
        if (frame.sync) this.applySync(frame.sync);
        for (const sync of frame.syncs || []) this.applySync(sync);
        this.settle(frame.ref, "resolve", frame);
        break;
      }
      case "error":
        if (frame.ref && frame.ref.startsWith("relay:")) {
          this.dispatchEvent(new CustomEvent("relayrefused", { detail: frame }));
        } else if (frame.ref && this.pending.has(frame.ref)) {
          this.settle(frame.ref, "reject", frame);
        } else if (this.state !== "live" && !frame.ref && frame.code === "unavailable") {
          // the server could not read its store: drop this socket and reconnect later
          if (this.ws) this.ws.close(4000, "server unavailable; retrying");
        } else if (this.state !== "live" && !frame.ref && frame.code !== "rate_limited") {
          // identify/resume refused (e.g. not a member of that community): stay closed
          this.stop("refused", { code: frame.code, reason: frame.message });
        } else {
          this.dispatchEvent(new CustomEvent("servererror", { detail: frame }));
        }
        break;
      case "heartbeat_ack": {
        this.clock.answered(frame.server_time_ms);
        break;
      }
      default:
        break; // frames from newer servers
    }
  }

  settle(ref, how, frame) {
    const waiter = this.pending.get(ref);
    if (!waiter) return;
    this.pending.delete(ref);
    waiter[how](frame);
  }

  applySync(sync) {
    if (sync.mode === "refused") {
      this.lastSeq.delete(sync.stream); // unknown, or not ours to read: forget it
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

  // Receive the events of streams without entering anything (a community's series, for
  // the Schedule; a session, for its transcript page or an artefact quoting it), each
  // from the seq its view was read at: {stream: seq}. Those followed
  // already are skipped; the rest go in commands of at most the limit's size. Missed
  // events arrive as "event"s; resolves with the syncs (one with a reason was too far
  // behind: read the view again), rejects with the first refusal.
  async followStreams(streams) {
    const fresh = Object.entries(streams).filter(([s]) => !this.lastSeq.has(s));
    const size = (this.limits && this.limits.max_resume_streams) || 32;
    const asks = [];
    for (let i = 0; i < fresh.length; i += size) {
      const part = fresh.slice(i, i + size);
      for (const [stream, seq] of part) { // so the replayed events are taken as news
        this.lastSeq.set(stream, seq);
        this.followed.add(stream);
      }
      asks.push(this.command("follow", { streams: Object.fromEntries(part) }).catch((error) => {
        for (const [stream] of part) this.unfollow(stream);
        throw error;
      }));
    }
    return (await Promise.all(asks)).flatMap((ack) => ack.syncs || []);
  }

  // A new socket does not resume what follow() opened: their views are read over HTTP (a
  // reconnect follows them anew from what the view says), and a resume takes at most
  // limits.max_resume_streams streams. A session page attending a followed session attends
  // again on ready (session.js), as it does on a fresh socket.
  dropFollowed() {
    for (const stream of this.followed) this.lastSeq.delete(stream);
    this.followed.clear();
  }

  follow(stream, seq) {
    this.lastSeq.set(stream, seq);
  }

  unfollow(stream) {
    this.lastSeq.delete(stream);
    this.followed.delete(stream);
  }

  startHeartbeats(intervalMs) {
    clearInterval(this.heartbeatTimer);
    this.heartbeatEvery = intervalMs;
    this.lastBeat = Date.now();
    this.probeSince = 0;
    this.heartbeatTimer = setInterval(() => this.tick(false), TICK_MS);
  }

  // Heartbeat when due; probe a quiet link; give up on a link that stopped answering.
  // `suspicious`: probe now (the tab just became visible, its timers were asleep).
  tick(suspicious) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.state === "offline") return;
    const now = Date.now();
    if (this.probeSince) {
      const deadline = visible() ? ACK_DEADLINE_MS : this.heartbeatEvery;
      if (now - this.probeSince > deadline) {
        ws.close(4000, "no heartbeat_ack"); // nothing came back: the link is dead
        this.onClose(ws, { code: 1006, reason: "no answer from the server" });
      }
      return;
    }
    const quiet = now - this.lastHeard >= SILENCE_MS && visible();
    if (suspicious || quiet || now - this.lastBeat >= this.heartbeatEvery) {
      this.beat();
    }
  }

  beat(clock = false, last = false) {
    const now = Date.now();
    this.lastBeat = now;
    this.probeSince = now;
    this.clock.sent(now, clock, last);
    this.send({ type: "heartbeat" });
  }

  // Heartbeats right after ready (every connection) that sample the server's clock.
  sampleClock() {
    const ws = this.ws;
    this.clock.sampleAfterReady((last) => {
      if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return false;
      this.beat(true, last);
      return true;
    });
  }

  // The last clock sample after ready is answered (tests wait for it).
  get clockSettled() {
    return this.clock.settled;
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearTimeout(this.helloTimer);
    this.clock.stop();
    clearInterval(this.heartbeatTimer);
    this.probeSince = 0;
    const detail = { code: event.code, reason: event.reason || "" };
    if (event.code === CLOSE.SESSION_REVOKED || event.code === CLOSE.AUTH_FAILED) {
      this.stop("signed-out", detail);
      return;
    }
    if (event.code === CLOSE.REMOVED) {
      this.stop("removed", detail);
      return;
    }
    if (event.code === CLOSE.ROLE_CHANGED) {
      this.attempt = 0;
      this.setState("reconnecting", { ...detail, retryInMs: 0 });
      this.retryTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.setState("offline", detail); // the online event reconnects
      return;
    }
    this.attempt += 1;
    const delay = Math.min(10000, 250 * 2 ** Math.min(this.attempt, 6)) * (0.5 + Math.random() / 2);
    this.setState("reconnecting", { ...detail, attempt: this.attempt, retryInMs: Math.round(delay) });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
