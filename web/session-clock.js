// The session's countdown: the server keeps the deadline (epoch ms); this counts down
// to it on the server's clock (clock.js corrects for this browser's offset), so a late
// joiner or a browser with a wrong clock shows the same time left as everyone else.
// Warns at 2 minutes and 30 seconds left (the scheduler's segment_warned says the same).
// In a case consultation's rounds of peer advice the deadline is the current round's:
// "Round 2 of 3 · peer advice" counts down that round, and each round warns for itself.

import { $, formatClock } from "./dom.js";
import { msUntil } from "./clock.js";
import { roundCount } from "./folds/session.js";

const TICK_MS = 250;
let timer = null;
let current = null; // {deadline_ms, index, round, phase, length_ms}
let warned = new Set(); // "index:left" already shown
let hooks = { onTick: () => {} };

export function init(options) {
  hooks = { ...hooks, ...options };
}

// "12:05", "1:02:03"; whole seconds rounded up, so 0:00 means the time is up.
export function format(ms) {
  const total = Math.ceil(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const SEGMENT_NAMES = {
  pairs: "Random pair-ups", presentation: "Presentation", qa: "Q&A", case: "Case consultation",
  open: "Open discussion", break: "Break",
};
export const kindName = (kind) => SEGMENT_NAMES[kind] || kind;

export function render(state) {
  clearInterval(timer);
  timer = null;
  const countdown = $("session-countdown");
  const segment = state.agenda[state.index];
  const phaseText = { lobby: "Lobby: waiting for the host to start", running: "Live", paused: "Paused", ended: "Ended" };
  $("session-phase").textContent = phaseText[state.phase] || state.phase;
  $("session-phase").dataset.phase = state.phase;
  if (state.phase === "lobby") {
    $("session-segment").textContent = `First: ${segment ? `${segment.title} (${segment.minutes} min)` : ""}`;
  } else if (state.phase === "ended") {
    $("session-segment").textContent = "The session has ended. Thank you for coming.";
  } else {
    $("session-segment").textContent = `${state.index + 1}/${state.agenda.length} · ${kindName(segment.kind)}: ${segment.title}`;
  }
  const rounds = roundCount(segment);
  const inRound = rounds > 0 && state.round > 0;
  const live = state.phase === "running" || state.phase === "paused";
  const roundLine = $("session-round");
  roundLine.hidden = !(live && rounds > 0);
  roundLine.textContent = !live || !rounds ? ""
    : inRound ? `Round ${state.round} of ${rounds} · peer advice`
      : `The case · then ${rounds} round${rounds === 1 ? "" : "s"} of peer advice`;
  roundLine.dataset.round = String(inRound ? state.round : 0);
  $("session-countdown").setAttribute("aria-label", inRound ? "Time left in this round" : "Time left in this segment");
  current = {
    deadline_ms: state.deadline_ms, index: state.index, round: state.round || 0, phase: state.phase,
    inRound,
    length_ms: !segment ? 0 : inRound ? segment.round_minutes * 60_000 : segment.minutes * 60_000,
  };
  countdown.dataset.deadlineMs = state.deadline_ms === null ? "" : String(state.deadline_ms);
  // the end in this person's own time zone (the profile's, else the browser's)
  $("session-ends").textContent = state.phase === "running" && state.deadline_ms !== null
    ? `Until ${formatClock(state.deadline_ms)}` : "";
  if (state.phase === "running" && state.deadline_ms !== null) {
    countdown.hidden = false;
    tick();
    timer = setInterval(tick, TICK_MS);
  } else if (state.phase === "paused" && state.remaining_ms !== null) {
    countdown.hidden = false;
    countdown.textContent = `${format(state.remaining_ms)} (paused)`;
    countdown.dataset.remainingMs = String(state.remaining_ms);
    $("session-warning").hidden = true;
  } else {
    countdown.hidden = true;
    countdown.textContent = "";
    $("session-warning").hidden = true;
  }
}

function tick() {
  if (!current || current.deadline_ms === null) return;
  const left = msUntil(current.deadline_ms);
  const countdown = $("session-countdown");
  const text = format(left);
  if (countdown.textContent !== text) countdown.textContent = text;
  countdown.dataset.remainingMs = String(left);
  countdown.classList.toggle("low", left <= 120_000);
  // As the server's scheduler: a warning only for a segment longer than it (a 1-minute
  // segment gets "30 seconds left" but no "2 minutes left").
  if (left === 0) showWarning("Time is up: the host moves on.", "up");
  else if (left <= 30_000 && current.length_ms > 30_000) warn("30s");
  else if (left <= 120_000 && current.length_ms > 120_000) warn("2m");
  else $("session-warning").hidden = true;
  hooks.onTick();
}

// A warning for the current segment, shown once it is due (from the clock or the server).
export function warn(left) {
  if (!current) return;
  const part = current.inRound ? "round" : "segment";
  const text = { "30s": `30 seconds left in this ${part}`, "1m": `1 minute left in this ${part}` }[left]
    || `2 minutes left in this ${part}`;
  showWarning(text, left);
}

function showWarning(text, key) {
  const box = $("session-warning");
  const id = `${current.index}.${current.round}:${current.deadline_ms}:${key}`;
  box.dataset.left = key;
  if (warned.has(id) && !box.hidden) return;
  warned.add(id);
  if (warned.size > 100) warned = new Set([id]);
  box.textContent = text;
  box.hidden = false;
}

export function stop() {
  clearInterval(timer);
  timer = null;
}
