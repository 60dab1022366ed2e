// "Ann is typing…" under the composer. While you type in a room we tell the others
// present at most every SEND_EVERY_MS (an ephemeral relay: never stored); someone else's
// notice shows for SHOW_FOR_MS after their last one, or until their message arrives.

import { $ } from "./dom.js";
import { FOLDS, streamOf } from "./folds/index.js";

const SEND_EVERY_MS = 3000;
const SHOW_FOR_MS = 5000;

let ui = null;
let gateway = null;
let lastSent = { room: null, at: 0 };
const typists = new Map(); // stream -> Map(member id -> {name, until})
let expiry = null;

export function init(context) {
  ui = context.ui;
  gateway = context.gateway;
  $("composer-input").addEventListener("input", typed);
  $("composer").addEventListener("submit", sent);
  $("composer-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) sent();
  });
  gateway.addEventListener("snapshot", () => render()); // another room on screen
  gateway.addEventListener("relayed", (e) => heard(e.detail));
  gateway.addEventListener("event", (e) => {
    const event = e.detail;
    if (event.body && event.body.type === "message_posted") stopped(event.stream, event.body.author);
    if (event.body && event.body.type === "member_left") stopped(event.stream, event.body.member);
  });
  gateway.addEventListener("state", () => render());
}

function typed() {
  const input = $("composer-input");
  if (!ui.view || input.disabled || !input.value.trim()) return;
  const now = Date.now();
  if (lastSent.room === ui.view.room && now - lastSent.at < SEND_EVERY_MS) return;
  if (gateway.relay(streamOf(FOLDS.room.KIND, ui.view.room), "typing")) lastSent = { room: ui.view.room, at: now };
}

// After sending, the next keystroke tells them again at once.
function sent() {
  lastSent = { room: null, at: 0 };
}

function heard(frame) {
  if (frame.kind !== "typing" || !frame.from) return;
  if (!typists.has(frame.stream)) typists.set(frame.stream, new Map());
  typists.get(frame.stream).set(frame.from.id, { name: frame.from.name, until: Date.now() + SHOW_FOR_MS });
  render();
}

function stopped(stream, member) {
  const here = typists.get(stream);
  if (here && here.delete(member)) render();
}

// Who is typing in the room on screen, sentence-cased.
export function typingText(names) {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

export function render() {
  const now = Date.now();
  for (const [stream, here] of typists) {
    for (const [member, seen] of here) if (seen.until <= now) here.delete(member);
    if (here.size === 0) typists.delete(stream);
  }
  const here = ui.view && ui.pane === "room" && gateway.state === "live"
    ? typists.get(streamOf(FOLDS.room.KIND, ui.view.room)) : null;
  const names = here ? [...here.values()].map((seen) => seen.name).sort() : [];
  const line = $("typing-indicator");
  line.textContent = typingText(names);
  line.hidden = names.length === 0;
  clearTimeout(expiry);
  if (typists.size > 0) {
    const next = Math.min(...[...typists.values()].flatMap((m) => [...m.values()].map((s) => s.until)));
    expiry = setTimeout(render, Math.max(50, next - now));
  }
}
