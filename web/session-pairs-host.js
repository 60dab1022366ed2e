// The host's pair-up controls (README "Pair-ups"), in a running pairs segment: "Pair
// everyone" (and "Join the pairs myself"), which once a round is on reads "Reshuffle";
// the breakout rooms with their people, a call for help highlighted with "Visit" and
// "Dismiss", "Leave visit"; a message to every breakout room; "End pair-ups now". The
// console's +1/+5 min extend the breakouts (they end with the segment). Shown only when
// ready's actions allow running a session; the server checks every command anyway.

import { $, button, el } from "./dom.js";
import { can } from "./can.js";
import { names } from "./session-pairs.js";

let deps = null;
let lastHelp = ""; // the help call the live region last read out

const RUN = "run_session";

export function init(options) {
  deps = options;
  $("broadcast-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("broadcast-text").value.trim();
    if (!text) return;
    deps.command("broadcast", { text }).then(() => { $("broadcast-text").value = ""; }, () => {});
  });
}

export function reset() {
  lastHelp = "";
}

const send = (op, fields) => deps.command(op, fields).catch(() => {});
const nameOf = (s, member) => (s.attendees.get(member) || { name: member }).name;

export function render() {
  const s = deps.state();
  const box = $("pairs-host");
  const segment = s && s.agenda[s.index];
  const inPairs = Boolean(segment) && segment.kind === "pairs" && s.phase === "running";
  box.hidden = !s || !can(RUN) || !(inPairs || s.pairs_active);
  if (box.hidden) {
    $("pairs-help").hidden = true;
    return;
  }
  renderButtons(s, inPairs);
  renderGroups(s);
  renderHelp(s);
  $("broadcast-form").hidden = !s.pairs_active;
  const others = [];
  if (s.waiting.length) others.push(`Waiting for a partner: ${names(s.waiting.map((m) => nameOf(s, m)))}.`);
  if (s.alone.length) others.push(`Partner left, choosing: ${names(s.alone.map((m) => nameOf(s, m)))}.`);
  if (s.sitting_out.length) others.push(`Sitting out: ${names(s.sitting_out.map((m) => nameOf(s, m)))}.`);
  $("pairs-others").textContent = others.join(" ");
}

function renderButtons(s, inPairs) {
  const row = $("pairs-host-buttons");
  const focused = row.contains(document.activeElement) ? document.activeElement.textContent : null;
  const buttons = [];
  if (inPairs) {
    // The round this console shows goes with the command: two hosts pressing at once
    // make one round (the second is refused).
    const pair = button(s.pairs_active ? "Reshuffle" : "Pair everyone", "primary", () => send("pair", {
      round: s.pair_round, host_joins: $("pairs-host-joins").checked,
    }));
    pair.dataset.round = String(s.pair_round);
    buttons.push(pair);
  }
  if (s.pairs_active) {
    buttons.push(button("End pair-ups now", "ghost danger", () => send("end_pairs", { round: s.pair_round })));
  }
  row.replaceChildren(...buttons);
  $("pairs-host-joins").closest("label").hidden = !inPairs;
  if (focused) {
    const again = buttons.find((b) => b.textContent === focused)
      || buttons.find((b) => ["Pair everyone", "Reshuffle"].includes(focused) && b.textContent !== "End pair-ups now");
    (again || buttons[0])?.focus();
  }
}

function renderGroups(s) {
  const list = $("pairs-groups");
  list.hidden = !s.pairs_active;
  const me = deps.me();
  const visiting = s.visits.get(me.id)?.group;
  const focused = list.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
  list.replaceChildren(...s.groups.map((g) => {
    const item = el("li", "pairs-group");
    item.dataset.group = String(g.group);
    const help = s.help.get(g.group);
    const hosts = [...s.visits].filter(([, v]) => v.group === g.group).map(([, v]) => v.name);
    const people = g.members.map((m) => nameOf(s, m)).sort((a, b) => a.localeCompare(b));
    item.append(el("strong", "", `Room ${g.group}`), el("span", "", names(people)));
    if (help) {
      item.classList.add("help");
      item.append(el("span", "help-note", `${help.name} calls for help`));
    }
    if (hosts.length) item.append(el("span", "muted small", `(${names(hosts)} visiting)`));
    if (visiting === g.group) {
      item.classList.add("visiting");
      const leave = button("Leave visit", "primary small", () => send("leave_visit"));
      leave.setAttribute("aria-label", `Leave room ${g.group}`);
      item.append(leave);
    } else {
      const visit = button("Visit", help ? "primary small" : "ghost small", () => send("visit", { group: g.group }));
      visit.setAttribute("aria-label", `Visit room ${g.group}`);
      item.append(visit);
    }
    if (help) {
      const dismiss = button("Dismiss", "ghost small", () => send("clear_help", { group: g.group }));
      dismiss.setAttribute("aria-label", `Dismiss the call for help from room ${g.group}`);
      item.append(dismiss);
    }
    return item;
  }));
  if (focused) [...list.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === focused)?.focus();
}

// A new call for help is read out (the list shows every open one).
function renderHelp(s) {
  const box = $("pairs-help");
  const last = [...s.help.values()].at(-1);
  box.hidden = !last;
  if (!last) return;
  const key = `${s.pair_round}:${last.group}:${last.ts}`;
  if (lastHelp === key) return;
  lastHelp = key;
  box.textContent = `${last.name} in room ${last.group} calls for the host.`;
}
