// A room's chat: joining it, its messages (edit, delete, older pages), the composer,
// who is here, and the banner while you are timed out. The room itself is a RoomView,
// folded from its snapshot and events; this draws it. Text goes in with textContent.
// What you write goes through the outbox (outbox.js), drawn here as pending until the
// server has it.

import { RoomView } from "./room.js";
import { FOLDS, streamOf } from "./folds/index.js";
import { Outbox } from "./outbox.js";
import { confirmAction } from "./confirm.js";
import { $, el, formatClock, formatTime, initials, toast } from "./dom.js";
import { can, canAny } from "./can.js";
import { guestControls, isGuest } from "./guests.js";

let ctx = null;
let ui = null;
let gateway = null;
let timeoutTimer = null;
let outbox = null;

export function init(context) {
  ctx = context;
  ui = context.ui;
  gateway = context.gateway;
  outbox = new Outbox(gateway);
  outbox.addEventListener("change", () => renderPending());
  outbox.addEventListener("failed", (e) => toast(e.detail.error));
  gateway.addEventListener("state", () => renderPending());
  $("load-older").addEventListener("click", loadOlder);
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    sendComposed();
  });
  $("composer-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      sendComposed();
    }
  });
}

// --- joining --------------------------------------------------------------------------------

export async function enterRoom(room) {
  if (room === ui.current) {
    if (ui.view) ctx.showPane("room");
    return;
  }
  const previous = ui.current;
  ui.current = room;
  ui.view = null;
  // A new history entry per room, so back and forward move between rooms.
  if (decodeURIComponent(location.hash.slice(1)) !== room) {
    history.pushState(null, "", `#${encodeURIComponent(room)}`);
  }
  ctx.showPane("room");
  if (previous) {
    gateway.unfollow(streamOf(FOLDS.room.KIND, previous));
    gateway.command("leave", { room: previous }).catch(() => {});
  }
  try {
    const ack = await gateway.command("join", { room });
    if (ui.current !== room) return;
    if (!ui.view) { // the snapshot handler usually drew it already, from ack.sync
      ui.view = new RoomView(ack.sync.snapshot, ack.sync.seq);
      renderRoom();
    }
    $("composer-input").focus();
  } catch (error) {
    if (ui.current === room) {
      ui.current = null;
      ctx.showPane("intro");
    }
    if (error && error.code !== "closed") toast(error.message || "Could not join the room");
  }
}

// One event on a room stream: fold it into the room on screen, if it is that room's.
export function roomEvent(event) {
  if (!ui.view || event.stream !== streamOf(FOLDS.room.KIND, ui.view.room)) return;
  const change = ui.view.apply(event);
  if (!change) return;
  if (event.body.type === "message_posted" && ui.me && event.body.author === ui.me.id) {
    outbox.seen(ui.view.room, event.body.text);
  }
  if (change.message) renderMessage(change.message, true);
  if (change.presence) renderPeople();
  if (change.header) renderHeader();
}

// --- the room ---------------------------------------------------------------------------------

export function renderRoom() {
  if (ui.pane === "intro" || ui.pane === "room") ctx.showPane("room");
  renderHeader();
  $("message-list").replaceChildren();
  const ids = [...ui.view.messages.keys()].sort((a, b) => a - b);
  for (const id of ids) renderMessage(ui.view.messages.get(id), false);
  $("load-older").hidden = !ui.view.hasOlder;
  renderPeople();
  renderPending();
  scrollToEnd();
}

export function renderHeader() {
  if (ui.pane !== "room") return;
  $("room-name").textContent = `# ${ui.view.name}`;
  $("room-topic").textContent = ui.view.topic;
  $("composer-label").textContent = `Message #${ui.view.name}`;
  updateTimeoutBanner(); // sets the placeholder: the room's name, or the time left
}

export function renderMessage(message, live) {
  const list = $("message-list");
  const nearEnd = isNearEnd();
  let item = list.querySelector(`li[data-id="${message.id}"]`);
  const fresh = !item;
  if (fresh) {
    item = el("li", "message");
    item.dataset.id = String(message.id);
  }
  const own = ui.me && message.author === ui.me.id;
  item.replaceChildren();
  item.classList.toggle("own", Boolean(own));
  item.classList.toggle("deleted", message.deleted);
  const head = el("div", "message-head");
  head.append(el("span", "avatar small", initials(message.author_name)));
  head.append(el("strong", "author", message.author_name));
  const time = el("time", "time", formatTime(message.ts));
  time.dateTime = new Date(message.ts).toISOString();
  head.append(time);
  if (message.edited_ts && !message.deleted) head.append(el("span", "edited", "(edited)"));
  item.append(head);
  item.append(el("p", "text", message.deleted ? "This message was deleted." : message.text));
  const moderator = can("moderate_messages");
  if (!message.deleted && (own || moderator)) item.append(messageActions(message, own));
  if (fresh) insertInOrder(list, item, message.id);
  if (live && fresh && nearEnd) scrollToEnd();
}

// "Ann Example's message of 14:02: “first words…”": what a screen reader says for each
// message's buttons, so that no two of them sound alike.
export function describeMessage(message, own) {
  const words = message.text.length > 40 ? `${message.text.slice(0, 40).trimEnd()}…` : message.text;
  const whose = own ? "your message" : `message by ${message.author_name}`;
  return `${whose} of ${formatClock(message.ts)}: “${words}”`;
}

function messageActions(message, own) {
  const actions = el("div", "message-actions");
  const about = describeMessage(message, own);
  if (own) {
    const edit = el("button", "ghost small", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", `Edit ${about}`);
    edit.addEventListener("click", () => startEdit(message));
    actions.append(edit);
  }
  const remove = el("button", "ghost small danger", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete ${about}`);
  remove.addEventListener("click", async () => {
    const sure = await confirmAction({
      title: "Delete this message?",
      text: `Delete ${about}? Everyone in the room will see that it was deleted.`,
      confirm: "Delete message",
    });
    if (!sure) return;
    try {
      await gateway.command("delete", { room: ui.view.room, message: message.id });
    } catch (error) {
      toast(error.message);
    }
  });
  actions.append(remove);
  return actions;
}

function startEdit(message) {
  const item = $("message-list").querySelector(`li[data-id="${message.id}"]`);
  const form = el("form", "edit-form");
  const input = el("textarea", "edit-input");
  input.value = message.text;
  input.maxLength = 4000;
  input.setAttribute("aria-label", "Edit message text");
  const save = el("button", "primary small", "Save");
  save.type = "submit";
  const cancel = el("button", "ghost small", "Cancel");
  cancel.type = "button";
  cancel.addEventListener("click", () => renderMessage(message, false));
  form.append(input, save, cancel);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await gateway.command("edit", { room: ui.view.room, message: message.id, text: input.value });
      renderMessage(ui.view.messages.get(message.id), false);
    } catch (error) {
      toast(error.message);
    }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") renderMessage(message, false);
  });
  item.querySelector(".text").replaceWith(form);
  item.querySelector(".message-actions")?.remove();
  input.focus();
}

function insertInOrder(list, item, id) {
  const last = list.lastElementChild;
  if (!last || Number(last.dataset.id) < id) {
    list.append(item);
    return;
  }
  for (const other of list.children) {
    if (Number(other.dataset.id) > id) {
      list.insertBefore(item, other);
      return;
    }
  }
  list.append(item);
}

function renderPeople() {
  const list = $("people-list");
  list.replaceChildren();
  const people = [...ui.view.present.values()].sort((a, b) => a.name.localeCompare(b.name));
  $("people-title").textContent = `Here now (${people.length})`;
  const host = canAny("remove_guest", "timeout_guest") && ui.communityId;
  for (const person of people) {
    const item = el("li", "person");
    item.append(el("span", "avatar small", initials(person.name)), el("span", "", person.name));
    if (ui.me && person.id === ui.me.id) item.append(el("span", "muted", " (you)"));
    if (isGuest(person.id)) {
      item.append(el("span", "muted small", " guest"));
      if (host) item.append(guestControls(ui.communityId, person));
    }
    list.append(item);
  }
}

async function loadOlder() {
  try {
    await pageOlder(30);
  } catch (error) {
    toast(error.message);
  }
}

async function pageOlder(limit) {
  const view = ui.view;
  const page = await gateway.command("history", { room: view.room, before: view.oldestId(), limit });
  if (ui.view !== view) return;
  const messages = $("messages");
  const fromBottom = messages.scrollHeight - messages.scrollTop;
  view.addOlder(page.messages, page.has_more);
  for (const message of page.messages) renderMessage(view.messages.get(message.id), false);
  $("load-older").hidden = !view.hasOlder;
  messages.scrollTop = messages.scrollHeight - fromBottom;
}

// Open a room at one message (a search result): page its history back until the message
// is loaded, then scroll to it, highlight it and move focus there. False if it is gone.
export async function showMessage(room, id) {
  await enterRoom(room);
  if (ui.current !== room || !ui.view || ui.view.room !== room) return false;
  ctx.showPane("room");
  try {
    for (let pages = 0; pages < 500 && ui.view && ui.view.room === room
      && !ui.view.messages.has(id) && ui.view.hasOlder; pages++) {
      await pageOlder(100);
    }
  } catch (error) {
    toast(error.message);
  }
  if (!ui.view || ui.view.room !== room) return false;
  const item = $("message-list").querySelector(`li[data-id="${id}"]`);
  const message = ui.view.messages.get(id);
  if (!item || !message || message.deleted) return false;
  for (const old of $("message-list").querySelectorAll("li.found")) old.classList.remove("found");
  item.classList.add("found");
  item.tabIndex = -1;
  item.scrollIntoView({ block: "center" });
  item.focus({ preventScroll: true });
  return true;
}

// --- timeouts ------------------------------------------------------------------------------------
// While you are timed out the composer is disabled and says how long is left; it comes back
// by itself when the time is up (the server refuses a post until then anyway).

function myTimeout() {
  if (!ui.community || !ui.me) return null;
  const info = ui.community.members.get(ui.me.id);
  return info && info.timed_out_until > Date.now() ? info : null;
}

// "12 min", "1 h 5 min", "less than a minute": coarse, so the live banner is not chatty.
function timeLeft(ms) {
  if (ms < 60_000) return "less than a minute";
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h` + (minutes % 60 ? ` ${minutes % 60} min` : "");
}

export function timeoutText() {
  const info = myTimeout();
  if (!info) return "";
  const until = formatClock(info.timed_out_until);
  return `You are timed out until ${until} (${timeLeft(info.timed_out_until - Date.now())} left)`
    + (info.timeout_reason ? `: ${info.timeout_reason}` : ".");
}

export function updateTimeoutBanner() {
  clearTimeout(timeoutTimer);
  const info = myTimeout();
  const text = timeoutText();
  const banner = $("timeout-banner");
  if (banner.textContent !== text) banner.textContent = text;
  banner.hidden = !text || ui.pane !== "room" || !ui.view;
  const input = $("composer-input");
  const send = $("composer-send");
  input.disabled = Boolean(info);
  send.disabled = Boolean(info);
  $("composer").classList.toggle("timed-out", Boolean(info));
  if (info) {
    const left = info.timed_out_until - Date.now();
    input.placeholder = `Timed out: ${timeLeft(left)} left`;
    input.setAttribute("aria-describedby", "timeout-banner");
    // Wake when the shown minute changes, and right when the timeout ends.
    const untilNextMinute = left >= 60_000 ? ((left - 1) % 60_000) + 1 : left;
    timeoutTimer = setTimeout(updateTimeoutBanner, Math.min(Math.max(untilNextMinute + 50, 50), 2 ** 31 - 1));
  } else {
    input.removeAttribute("aria-describedby");
    if (ui.view) input.placeholder = `Message #${ui.view.name}`;
  }
}

// --- composing ---------------------------------------------------------------------------------

function sendComposed() {
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text || !ui.view) return;
  if (outbox.add(ui.view.room, text)) input.value = ""; // it shows as pending until sent
}

// Your posts the server does not have yet, after the room's messages.
function renderPending() {
  const list = $("pending-list");
  const items = ui.view ? outbox.forRoom(ui.view.room) : [];
  const nearEnd = isNearEnd();
  list.replaceChildren(...items.map(pendingItem));
  list.hidden = items.length === 0;
  if (nearEnd) scrollToEnd();
}

function pendingItem(item) {
  const row = el("li", `message own pending ${item.status}`);
  row.dataset.ref = item.ref;
  const head = el("div", "message-head");
  const name = ui.me ? ui.me.name : "You";
  head.append(el("span", "avatar small", initials(name)), el("strong", "author", name));
  const offline = gateway.state !== "live";
  const state = item.status === "failed" ? `Not sent: ${item.error}`
    : offline ? "Not sent yet: waiting for the connection"
      : item.error ? `Not sent yet: ${item.error}` : "Sending…";
  head.append(el("span", "pending-state", state));
  row.append(head, el("p", "pending-text", item.text));
  if (item.status === "failed") {
    const words = item.text.length > 40 ? `${item.text.slice(0, 40).trimEnd()}…` : item.text;
    const actions = el("div", "message-actions pending-actions");
    const retry = el("button", "ghost small", "Retry");
    retry.type = "button";
    retry.setAttribute("aria-label", `Retry sending “${words}”`);
    retry.addEventListener("click", () => outbox.retry(item.ref));
    const discard = el("button", "ghost small danger", "Discard");
    discard.type = "button";
    discard.setAttribute("aria-label", `Discard unsent “${words}”`);
    discard.addEventListener("click", () => outbox.discard(item.ref));
    actions.append(retry, discard);
    row.append(actions);
  }
  return row;
}

// --- scrolling --------------------------------------------------------------------------------------

function isNearEnd() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}
