// What you wrote and the server has not acknowledged yet. Each post gets its ref when
// it is written and keeps it: it is sent one at a time and in order, resent with the
// same ref after a reconnect (the server applies a ref once), held back for
// retry_after_ms when rate limited, and kept in sessionStorage so a reload keeps it.
// A post refused for good (forbidden, invalid…) stays as failed until retried or
// discarded. Nothing written is dropped silently.

const KEY = "practica.outbox";
const RETRY_LATER = new Set(["rate_limited", "unavailable", "internal"]);

const newRef = () => `o-${(crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random()}`}`;

export class Outbox extends EventTarget {
  constructor(gateway, storage = window.sessionStorage) {
    super();
    this.gateway = gateway;
    this.storage = storage;
    this.items = this.load(); // [{ref, member, community, room, text, status, error, retryAt}]
    this.busy = null; // the ref in flight
    this.timer = null;
    gateway.addEventListener("state", (e) => { if (e.detail.state === "live") this.pump(); });
  }

  load() {
    try {
      const items = JSON.parse(this.storage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items.filter((i) => i && i.ref && i.room && typeof i.text === "string") : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      if (this.items.length) this.storage.setItem(KEY, JSON.stringify(this.items));
      else this.storage.removeItem(KEY);
    } catch {
      // storage full or denied: the items still live in this page
    }
  }

  changed(item) {
    this.save();
    this.dispatchEvent(new CustomEvent("change", { detail: item }));
  }

  // Who the socket is now: only their items, in their community, are sent.
  scope() {
    const session = this.gateway.session;
    return session ? { member: session.member.id, community: session.community } : null;
  }

  mine(item, scope = this.scope()) {
    return Boolean(scope) && item.member === scope.member && item.community === scope.community;
  }

  forRoom(room) {
    const scope = this.scope();
    return this.items.filter((item) => item.room === room && this.mine(item, scope));
  }

  add(room, text) {
    const scope = this.scope();
    if (!scope) return null;
    const item = { ref: newRef(), ...scope, room, text, status: "pending", error: "", retryAt: 0 };
    this.items.push(item);
    this.changed(item);
    this.pump();
    return item;
  }

  retry(ref) {
    const item = this.items.find((i) => i.ref === ref);
    if (!item) return;
    Object.assign(item, { status: "pending", error: "", retryAt: 0 });
    this.changed(item);
    this.pump();
  }

  discard(ref) {
    const item = this.items.find((i) => i.ref === ref);
    if (!item || this.busy === ref) return;
    this.items = this.items.filter((i) => i !== item);
    item.status = "discarded";
    this.changed(item);
  }

  // The posted message came back as an event while its ack is on the way: the room
  // shows it now, so the pending copy goes (the ack then finds nothing to remove).
  seen(room, text) {
    const item = this.items.find((i) => i.ref === this.busy);
    if (item && item.room === room && item.text === text && this.mine(item)) this.delivered(item);
  }

  delivered(item) {
    if (!this.items.includes(item)) return;
    this.items = this.items.filter((i) => i !== item);
    item.status = "delivered";
    this.changed(item);
  }

  // Send the oldest pending item of whoever is connected; the next goes after its answer.
  pump() {
    clearTimeout(this.timer);
    if (this.busy || this.gateway.state !== "live") return;
    const item = this.items.find((i) => i.status === "pending" && this.mine(i));
    if (!item) return;
    const wait = item.retryAt - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => this.pump(), wait);
      return;
    }
    this.busy = item.ref;
    if (item.error) {
      item.error = "";
      this.changed(item);
    }
    this.gateway.command("post", { room: item.room, text: item.text }, item.ref)
      .then(() => this.delivered(item))
      .catch((error) => this.refused(item, error || {}))
      .finally(() => {
        this.busy = null;
        this.pump();
      });
  }

  refused(item, error) {
    if (!this.items.includes(item)) return;
    if (error.code === "closed") return; // sent again once the socket is live
    if (RETRY_LATER.has(error.code)) {
      item.retryAt = Date.now() + Math.max(250, Number(error.retry_after_ms) || 2000);
      item.error = error.code === "rate_limited" ? "sending too fast, retrying shortly"
        : "the server is busy, retrying shortly";
    } else {
      item.status = "failed";
      item.error = error.message || error.code || "refused";
      this.dispatchEvent(new CustomEvent("failed", { detail: item }));
    }
    this.changed(item);
  }
}
