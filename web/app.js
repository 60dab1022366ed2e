// The browser client: community, rooms, a room's chat and who is here.
// Every piece of user text goes into the page with textContent, never as HTML.

import { Gateway } from "./socket.js";
import { RoomView } from "./room.js";

const SESSION_KEY = "practica.session";
const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const gateway = new Gateway(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
const ui = { me: null, community: null, rooms: [], current: null, view: null };
window.practica = { gateway, ui }; // for people poking at it in the console, and for tests

// --- session ---------------------------------------------------------------------

function savedSession() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

function start() {
  const saved = savedSession();
  if (saved && saved.token) {
    gateway.start({ token: saved.token });
  } else {
    showWelcome();
  }
}

function showWelcome() {
  $("welcome").hidden = false;
  $("app").hidden = true;
  $("name-input").focus();
}

$("welcome-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $("name-input").value.trim();
  if (!name) return;
  $("welcome").hidden = true;
  gateway.start({ name });
});

gateway.addEventListener("ready", (e) => {
  const { session } = e.detail;
  ui.me = session.member;
  localStorage.setItem(SESSION_KEY, JSON.stringify({ token: session.token, name: ui.me.name }));
  $("welcome").hidden = true;
  $("app").hidden = false;
  $("me-name").textContent = ui.me.name;
  $("me-avatar").textContent = initials(ui.me.name);
});

// --- connection status -------------------------------------------------------------

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Connected",
  reconnecting: "Reconnecting…",
  "signed-out": "Session expired: choose a name again",
};

gateway.addEventListener("state", (e) => {
  const { state } = e.detail;
  $("status").dataset.state = state;
  $("status-text").textContent = STATUS_TEXT[state] || state;
  $("composer").classList.toggle("offline", state !== "live");
  if (state === "signed-out") {
    localStorage.removeItem(SESSION_KEY);
    showWelcome();
  }
});

gateway.addEventListener("servererror", (e) => toast(e.detail.message));

let toastTimer = null;
function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

// --- community and rooms ----------------------------------------------------------------

gateway.addEventListener("snapshot", (e) => {
  const sync = e.detail;
  if (sync.snapshot.kind === "community") {
    showCommunity(sync.snapshot);
  } else if (sync.snapshot.kind === "room" && sync.snapshot.room === ui.current) {
    ui.view = new RoomView(sync.snapshot); // a resume too far behind: start over from here
    renderRoom();
  }
});

function showCommunity(snapshot) {
  ui.community = snapshot;
  ui.rooms = snapshot.rooms;
  $("community-name").textContent = snapshot.name;
  $("community-domain").textContent = snapshot.domain;
  $("community-purpose").textContent = snapshot.purpose;
  $("community-description").textContent = snapshot.description;
  $("community-badge").textContent = initials(snapshot.name);
  $("community-badge").title = snapshot.name;
  document.title = `${snapshot.name} · Practica`;
  renderRoomList();
  if (!ui.current && ui.rooms.length) {
    const wanted = decodeURIComponent(location.hash.slice(1));
    const first = ui.rooms.find((r) => r.room === wanted) || null;
    if (first) enterRoom(first.room);
  }
}

function renderRoomList() {
  const list = $("room-list");
  list.replaceChildren();
  for (const room of ui.rooms) {
    const item = el("li");
    const button = el("button", "room-link");
    button.dataset.room = room.room;
    if (room.room === ui.current) button.setAttribute("aria-current", "true");
    button.append(el("span", "hash", "#"), el("span", "room-title", room.name));
    if (room.topic) button.append(el("span", "room-topic", room.topic));
    button.addEventListener("click", () => enterRoom(room.room));
    item.append(button);
    list.append(item);
  }
}

async function enterRoom(room) {
  if (room === ui.current) return;
  const previous = ui.current;
  ui.current = room;
  ui.view = null;
  location.hash = room;
  renderRoomList();
  if (previous) {
    gateway.unfollow(`room:${previous}`);
    gateway.command("leave", { room: previous }).catch(() => {});
  }
  try {
    const ack = await gateway.command("join", { room });
    if (ui.current !== room) return;
    if (!ui.view) { // the snapshot handler usually drew it already, from ack.sync
      ui.view = new RoomView(ack.sync.snapshot);
      renderRoom();
    }
    $("composer-input").focus();
  } catch (error) {
    toast(error.message || "Could not join the room");
  }
}

// --- the room ---------------------------------------------------------------------------------

gateway.addEventListener("event", (e) => {
  const event = e.detail;
  if (event.stream.startsWith("community:")) {
    if (event.body && event.body.type === "room_created") {
      ui.rooms = [...ui.rooms.filter((r) => r.room !== event.body.room), event.body];
      renderRoomList();
    }
    return;
  }
  if (!ui.view || event.stream !== `room:${ui.view.room}`) return;
  const change = ui.view.apply(event);
  if (!change) return;
  if (change.message) renderMessage(change.message, true);
  if (change.presence) renderPeople();
  if (change.header) renderHeader();
});

function renderRoom() {
  $("community-intro").hidden = true;
  $("messages").hidden = false;
  $("composer").hidden = false;
  renderHeader();
  $("message-list").replaceChildren();
  const ids = [...ui.view.messages.keys()].sort((a, b) => a - b);
  for (const id of ids) renderMessage(ui.view.messages.get(id), false);
  $("load-older").hidden = !ui.view.hasOlder;
  renderPeople();
  scrollToEnd();
}

function renderHeader() {
  $("room-name").textContent = `# ${ui.view.name}`;
  $("room-topic").textContent = ui.view.topic;
  $("composer-input").placeholder = `Message #${ui.view.name}`;
  $("composer-label").textContent = `Message #${ui.view.name}`;
}

function renderMessage(message, live) {
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
  if (own && !message.deleted) item.append(messageActions(message));
  if (fresh) insertInOrder(list, item, message.id);
  if (live && fresh && nearEnd) scrollToEnd();
}

function messageActions(message) {
  const actions = el("div", "message-actions");
  const edit = el("button", "ghost small", "Edit");
  edit.setAttribute("aria-label", "Edit message");
  edit.addEventListener("click", () => startEdit(message));
  const remove = el("button", "ghost small danger", "Delete");
  remove.setAttribute("aria-label", "Delete message");
  remove.addEventListener("click", async () => {
    try {
      await gateway.command("delete", { room: ui.view.room, message: message.id });
    } catch (error) {
      toast(error.message);
    }
  });
  actions.append(edit, remove);
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
  for (const person of people) {
    const item = el("li", "person");
    item.append(el("span", "avatar small", initials(person.name)), el("span", "", person.name));
    if (ui.me && person.id === ui.me.id) item.append(el("span", "muted", " (you)"));
    list.append(item);
  }
}

$("load-older").addEventListener("click", async () => {
  const view = ui.view;
  const before = view.oldestId();
  try {
    const page = await gateway.command("history", { room: view.room, before, limit: 30 });
    if (ui.view !== view) return;
    const messages = $("messages");
    const fromBottom = messages.scrollHeight - messages.scrollTop;
    view.addOlder(page.messages, page.has_more);
    for (const message of page.messages) renderMessage(view.messages.get(message.id), false);
    $("load-older").hidden = !view.hasOlder;
    messages.scrollTop = messages.scrollHeight - fromBottom;
  } catch (error) {
    toast(error.message);
  }
});

// --- composing ---------------------------------------------------------------------------------

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

function sendComposed() {
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text || !ui.view) return;
  input.value = "";
  gateway.command("post", { room: ui.view.room, text }).catch((error) => {
    toast(error.message);
    if (!input.value) input.value = text; // keep what they wrote
  });
}

$("people-toggle").addEventListener("click", () => {
  const open = document.body.classList.toggle("people-open");
  $("people-toggle").setAttribute("aria-expanded", String(open));
});

// --- helpers --------------------------------------------------------------------------------------

function initials(name) {
  const parts = name.trim().split(/\s+/).filter((p) => /\p{L}/u.test(p[0] || ""));
  return (parts.slice(0, 2).map((p) => p[0]).join("") || name.slice(0, 1)).toUpperCase();
}

function formatTime(ts) {
  const date = new Date(ts);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function isNearEnd() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

start();
