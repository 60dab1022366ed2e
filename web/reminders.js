// In-app reminders: the sessions you answered yes or maybe to that start soon
// (GET /api/reminders, the server's reminder_due events for you), shown above every
// pane of the community while you are in it, with Join once the lobby is open.
// Dismissed ones stay dismissed in this browser. Read every 30 s and on entering.

import { get } from "./api.js";
import { $, button, el } from "./dom.js";
import { formatIn } from "./zoned.js";

const POLL_MS = 30000;
const DISMISSED_KEY = "practica.reminders.dismissed";

let ui = null;
let zoneOf = () => "UTC";
let timer = null;

const keyOf = (r) => `${r.series}/${r.occurrence}/${r.session ? "open" : "soon"}`;

function dismissed() {
  try {
    return new Set(JSON.parse(localStorage.getItem(DISMISSED_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

function dismiss(key) {
  const keys = [...dismissed(), key].slice(-200);
  localStorage.setItem(DISMISSED_KEY, JSON.stringify(keys));
}

export function init(context, viewerZone) {
  ui = context.ui;
  zoneOf = viewerZone;
  context.gateway.addEventListener("ready", () => start());
}

export function start() {
  clearInterval(timer);
  if (!ui.account) {
    $("reminders").hidden = true;
    return;
  }
  load();
  timer = setInterval(() => {
    if (!document.hidden) load();
  }, POLL_MS);
}

export function stop() {
  clearInterval(timer);
  timer = null;
  $("reminder-list").replaceChildren();
  $("reminders").hidden = true;
}

export async function load() {
  let reminders;
  try {
    reminders = await get("/api/reminders");
  } catch {
    return; // the next poll tries again
  }
  render(reminders);
}

function render(reminders) {
  const hidden = dismissed();
  const zone = zoneOf();
  const wanted = reminders.filter((r) => !hidden.has(keyOf(r)));
  $("reminder-list").replaceChildren(...wanted.map((r) => {
    const item = el("li", r.session ? "reminder lit" : "reminder");
    item.dataset.occurrence = r.occurrence;
    const text = r.session
      ? `${r.title}: the lobby is open (starts ${formatIn(r.start_ms, zone)}).`
      : `Reminder: ${r.title} starts ${formatIn(r.start_ms, zone)}.`;
    item.append(el("span", "", text));
    if (r.session) {
      const join = el("a", "button-link primary", "Join");
      join.href = `/s/${encodeURIComponent(r.session)}`;
      join.dataset.internal = "";
      join.setAttribute("aria-label", `Join ${r.title}`);
      item.append(join);
    }
    const close = button("Dismiss", "ghost small", () => {
      dismiss(keyOf(r));
      item.remove();
      $("reminders").hidden = !$("reminder-list").children.length;
    });
    close.setAttribute("aria-label", `Dismiss the reminder of ${r.title}`);
    item.append(close);
    return item;
  }));
  $("reminders").hidden = wanted.length === 0;
}
