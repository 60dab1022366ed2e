// Pair-ups as a member meets them (README "Pair-ups"): in a pairs segment, before the
// host pairs everyone, "Sit out this round"; once paired, a breakout room with the
// partner's name ("You're with Ana and Ben"), the breakout's own countdown (to the
// segment's deadline, on the server's clock: clock.js), a one-minute warning, the room's
// chat (breakout_say: relayed to the group and visiting hosts only, never stored), the
// host's broadcasts, "Call the host" and "Back to main room". A member whose partner left
// chooses: wait, join another pair, or go back to the main room; someone in the main room
// while the round runs may rejoin it ("Rejoin pairs", or "Join a pair" if they were in no
// breakout room yet) and is placed as a late arrival is. When the round ends,
// everyone is back in the main room and those who were paired get the optional "One thing
// you took away" prompt (takeaway, or Skip). A visiting host sees the visited room here.
// The room's audio/video call is session-call.js.
// The host's controls are in session-pairs-host.js.

import { $, button, el } from "./dom.js";
import { msUntil } from "./clock.js";
import { format } from "./session-clock.js";
import * as pairsFold from "./folds/session-pairs.js";
import * as call from "./session-call.js";

let deps = null;
let ticker = null;
let chat = { key: "", lines: [] }; // the breakout chat of one (round, group)
let lastBroadcast = ""; // the broadcast the live region last read out
let takeawayRound = 0; // the round whose takeaway prompt shows (0: none)

const TICK_MS = 250;
const ONE_MINUTE = 60_000;

export function init(options) {
  deps = options;
  call.init({ gateway: deps.gateway, me: deps.me, shownId: deps.shownId });
  $("breakout-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("breakout-text").value.trim();
    if (!text) return;
    const room = breakoutRoom(deps.state());
    deps.command("breakout_say", { text }).then(() => {
      $("breakout-text").value = "";
      // the relay goes to the others in the room: show your own words here
      if (room) addLine(room, { name: deps.me().name, text, mine: true });
    }, () => {});
  });
  deps.gateway.addEventListener("relayed", (e) => {
    const frame = e.detail;
    if (frame.kind !== "breakout" || frame.stream !== `session:${deps.shownId()}`) return;
    const data = frame.data || {};
    const from = frame.from || {};
    if (from.member === deps.me().id) return; // shown when the server took it
    const room = breakoutRoom(deps.state());
    if (!room || data.group !== room.group || data.round !== room.round) return;
    addLine(room, { name: String(from.name || data.name || ""), text: String(data.text || "") });
  });
  $("takeaway-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("takeaway-text").value.trim();
    if (!text) {
      closeTakeaway();
      return;
    }
    deps.command("takeaway", { round: takeawayRound, text }).then(closeTakeaway, () => {});
  });
  $("takeaway-skip").addEventListener("click", closeTakeaway);
}

export function reset() {
  call.hangUp();
  chat = { key: "", lines: [] };
  lastBroadcast = "";
  takeawayRound = 0;
  $("breakout-chat").replaceChildren();
  $("takeaway").hidden = true;
}

// The room this person's breakout view shows: their group's, or the group a host visits.
export function breakoutRoom(s) {
  if (!s || !s.pairs_active) return null;
  const me = deps.me().id;
  const visit = s.visits.get(me);
  const group = pairsFold.groupOf(s, me) || (visit ? s.groups.find((g) => g.group === visit.group) : null);
  return group ? { round: s.pair_round, group: group.group, members: group.members, visiting: !group.members.includes(me) } : null;
}

// "Ana", "Ana and Ben", "Ana, Ben and Chidi"
export function names(list) {
  return list.length <= 1 ? list.join("") : `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;
}

const nameOf = (s, member) => (s.attendees.get(member) || { name: member }).name;

// A round ended: everyone is back; those who were paired in it are asked for a takeaway.
export function ended(info) {
  const me = deps.me().id;
  stopTicker();
  if (!info || !info.members.includes(me)) return;
  takeawayRound = info.round;
  $("takeaway-text").value = "";
  $("takeaway").hidden = false;
}

function closeTakeaway() {
  takeawayRound = 0;
  $("takeaway").hidden = true;
  $("takeaway-text").value = "";
}

export function render() {
  const s = deps.state();
  if (!s) return;
  const me = deps.me().id;
  const segment = s.agenda[s.index];
  const inPairs = Boolean(segment) && segment.kind === "pairs" && (s.phase === "running" || s.phase === "paused");
  const box = $("pairs-view");
  box.hidden = !(inPairs || s.pairs_active);
  if (takeawayRound && (s.pairs_active || s.phase === "ended")) closeTakeaway(); // a new round began
  if (box.hidden) {
    stopTicker();
    call.hangUp();
    $("breakout").hidden = true;
    $("pairs-warning").hidden = true;
    return;
  }
  renderBroadcast(s);
  const room = breakoutRoom(s);
  const alone = s.alone.includes(me);
  const waiting = s.waiting.includes(me);
  const status = { textContent: "" }; // set below, written only when it changes (a live region)
  if (!s.pairs_active) {
    const over = s.pair_round ? `Round ${s.pair_round} is over: everyone is back in the main room. ` : "";
    status.textContent = over + (s.sitting_out.includes(me)
      ? "You are sitting out the next round: you stay in the main room."
      : "When the host pairs everyone here, you meet someone you have not met lately.");
  } else if (alone) {
    status.textContent = "";
  } else if (room && !room.visiting) {
    status.textContent = `Round ${s.pair_round}: you are in a breakout room.`;
  } else if (waiting) {
    status.textContent = "Everyone else is paired for now: you will be paired with the next person who arrives.";
  } else {
    const n = s.groups.length;
    status.textContent = `Round ${s.pair_round}: ${n} breakout room${n === 1 ? "" : "s"} talking. You are in the main room.`;
  }
  if ($("pairs-status").textContent !== status.textContent) $("pairs-status").textContent = status.textContent;
  const rejoin = deps.takesPart() && pairsFold.mayRejoin(s, me, deps.runs());
  renderRow(s, inPairs && !s.pairs_active && deps.takesPart(), s.pairs_active && waiting, rejoin);
  renderChoice(s, alone);
  renderBreakout(s, room);
}

// Before the pairing: the sit-out toggle. Waiting for a partner: back to the main room. In
// the main room while a round runs: back into it (the round pressed on is named, so a
// press that arrives after the round ended or was reshuffled changes nothing).
function renderRow(s, before, waiting, rejoin) {
  const box = $("pairs-before");
  box.hidden = !before && !waiting && !rejoin;
  if (box.hidden) return;
  const focused = box.contains(document.activeElement);
  let control;
  if (before) {
    const out = s.sitting_out.includes(deps.me().id);
    control = button("Sit out this round", out ? "primary small" : "ghost small",
      () => deps.command("sit_out", { out: !out }).catch(() => {}));
    control.setAttribute("aria-pressed", String(out));
  } else if (waiting) {
    control = button("Back to main room", "ghost small", () => deps.command("leave_pair").catch(() => {}));
  } else {
    const label = s.paired.includes(deps.me().id) ? "Rejoin pairs" : "Join a pair";
    const round = s.pair_round;
    control = button(label, "primary small", () => deps.command("rejoin_pairs", { round }).catch(() => {}));
    control.dataset.round = String(round);
  }
  box.replaceChildren(control);
  if (focused) control.focus();
}

function renderChoice(s, alone) {
  const box = $("pairs-choice");
  box.hidden = !alone;
  if (!alone) return;
  const choose = (choice) => () => deps.command("partner_choice", { choice }).catch(() => {});
  const joinable = pairsFold.joinable(s, deps.me().id);
  const buttons = [button("Wait for a new partner", "ghost small", choose("wait"))];
  if (joinable.length) buttons.push(button("Join another pair", "primary small", choose("join_pair")));
  buttons.push(button("Back to main room", "ghost small", choose("main_room")));
  $("pairs-choice-buttons").replaceChildren(...buttons);
}

function renderBreakout(s, room) {
  const box = $("breakout");
  box.hidden = !room;
  call.update(room, s); // the room's audio/video call (none without a room, or visiting)
  if (!room) {
    stopTicker();
    $("pairs-warning").hidden = true;
    return;
  }
  const me = deps.me().id;
  const key = `${room.round}:${room.group}`;
  if (chat.key !== key) {
    chat = { key, lines: [] };
    $("breakout-chat").replaceChildren();
  }
  const others = room.members.filter((m) => m !== me).map((m) => nameOf(s, m))
    .sort((a, b) => a.localeCompare(b));
  $("breakout-title").textContent = room.visiting ? `Visiting breakout room ${room.group}` : "Your breakout room";
  $("breakout-partners").textContent = room.visiting
    ? `In this room: ${names(others)}`
    : others.length ? `You're with ${names(others)}` : "Your partner left this room.";
  const hosts = [...s.visits].filter(([host, v]) => v.group === room.group && host !== me).map(([, v]) => v.name);
  const visit = $("breakout-visit");
  visit.hidden = !hosts.length;
  visit.textContent = hosts.length ? `${names(hosts)} (host) is visiting your room.` : "";
  $("breakout-form").hidden = !deps.speaks() && !room.visiting; // what breakout_say needs
  const actions = [];
  if (!room.visiting) {
    const called = s.help.has(room.group);
    const help = button(called ? "Host called" : "Call the host", called ? "ghost small" : "primary small",
      () => deps.command("call_help").catch(() => {}));
    help.disabled = called;
    if (called) help.setAttribute("aria-label", "The host has been called to this room");
    actions.push(help, button("Back to main room", "ghost small", () => deps.command("leave_pair").catch(() => {})));
  }
  const focused = $("breakout-actions").contains(document.activeElement) ? document.activeElement.textContent : null;
  $("breakout-actions").replaceChildren(...actions);
  if (focused) actions.find((b) => b.textContent === focused && !b.disabled)?.focus();
  startTicker();
}

function renderBroadcast(s) {
  const box = $("pairs-broadcast");
  const last = s.broadcasts.at(-1);
  box.hidden = !last || !s.pairs_active;
  if (box.hidden) return;
  const text = `From ${last.name} to every room: ${last.text}`;
  const key = `${last.round}:${last.ts}:${text}`;
  if (lastBroadcast !== key) { // set only when new, so the live region reads it once
    lastBroadcast = key;
    box.textContent = text;
  }
}

function addLine(room, line) {
  const key = `${room.round}:${room.group}`;
  if (chat.key !== key) chat = { key, lines: [] };
  chat.lines.push(line);
  if (chat.lines.length > 200) chat.lines.shift();
  const item = el("li", `said said-breakout${line.mine ? " mine" : ""}`);
  if (line.name) item.append(el("strong", "", `${line.name}: `));
  item.append(el("span", "", line.text));
  const log = $("breakout-chat");
  if (log.children.length >= 200) log.firstElementChild.remove();
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

// --- the breakout's countdown ---------------------------------------------------------------------

function startTicker() {
  if (!ticker) ticker = setInterval(tick, TICK_MS);
  tick();
}

function stopTicker() {
  clearInterval(ticker);
  ticker = null;
}

function tick() {
  const s = deps.state();
  const countdown = $("breakout-countdown");
  if (!s || !s.pairs_active) {
    stopTicker();
    return;
  }
  const segment = s.agenda[s.index];
  let left = null;
  if (s.phase === "running" && s.deadline_ms !== null) left = msUntil(s.deadline_ms);
  else if (s.phase === "paused" && s.remaining_ms !== null) left = s.remaining_ms;
  countdown.hidden = left === null;
  if (left === null) return;
  const text = s.phase === "paused" ? `${format(left)} (paused)` : format(left);
  if (countdown.textContent !== text) countdown.textContent = text;
  countdown.dataset.remainingMs = String(left);
  countdown.classList.toggle("low", left <= ONE_MINUTE);
  // The server warns at one minute (segment_warned "1m") when the segment is longer than
  // that; the clock shows it when due even before the warning arrives.
  const long = segment && segment.minutes * ONE_MINUTE > ONE_MINUTE;
  const due = s.warned.has("1m") || (long && left <= ONE_MINUTE && left > 0);
  const warning = $("pairs-warning");
  const message = left === 0 ? "Time is up: back to the main room." : "One minute left in your breakout.";
  if (due || left === 0) {
    if (warning.hidden || warning.textContent !== message) {
      warning.textContent = message;
      warning.hidden = false;
    }
  } else {
    warning.hidden = true;
  }
}
