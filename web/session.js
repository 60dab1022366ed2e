// A room's live session in the browser: finding it (the room header's "Session" button,
// or the path /s/<session>), following its stream (snapshot, then events, folded by
// folds/session.js, the server's fold) and drawing what changed. The host console and the
// agenda editor are in session-host.js, the Q&A board in session-board.js, the countdown
// in session-clock.js, pair-ups in session-pairs.js (the host's: session-pairs-host.js).
// Every command is one "session" frame with an op; a refusal shows in the session's
// alert box. Which controls show comes from ready's actions (can.js).

import * as sessionFold from "./folds/session.js";
import { get } from "./api.js";
import { $, el, formatClock, initials, onSubmit, showError, toast } from "./dom.js";
import { can } from "./can.js";
import * as clock from "./session-clock.js";
import * as host from "./session-host.js";
import * as board from "./session-board.js";
import * as talk from "./session-talk.js";
import * as pairs from "./session-pairs.js";
import * as pairsHost from "./session-pairs-host.js";
import * as stageMedia from "./session-media.js";

let ctx = null;
let ui = null;
let gateway = null;
const view = {
  state: null, // the fold
  id: null, // the session shown
  room: null, // the room whose sessions are listed
  announcedTranscript: null, // the session whose transcript notice was read out
};

// The actions (server/domain/policy.py) that decide which controls show.
export const ACTIONS = {
  open: "open_session", run: "run_session", moderate: "moderate_questions",
  template: "save_template", takePart: "take_part", speak: "speak_in_session",
};

export const me = () => (ui && ui.me ? ui.me.id : null);
export const state = () => view.state;
export const isScribe = () => Boolean(view.state && view.state.scribe && view.state.scribe.member === me());
export const onStage = () => Boolean(view.state && view.state.stage.has(me()));
export const takesPart = () => can(ACTIONS.takePart); // attend, hands, votes, withdraw
export const speaks = () => can(ACTIONS.speak); // ask, edit a question, chat

export function init(context) {
  ctx = context;
  ui = context.ui;
  gateway = context.gateway;
  $("session-button").addEventListener("click", () => showForRoom(ui.current));
  onSubmit($("session-open-form"), $("session-open-error"), openSession);
  gateway.addEventListener("snapshot", (e) => {
    const sync = e.detail;
    if (sync.snapshot.kind === "room") markLive(sync.snapshot.room);
    if (sync.snapshot.kind !== sessionFold.KIND || sync.stream !== `session:${view.id}`) return;
    view.state = sessionFold.fromSnapshot(sync.snapshot, sync.seq);
    render();
    board.refreshMine();
    talk.loadEarlier(view.id, sync.seq);
  });
  gateway.addEventListener("event", (e) => {
    const event = e.detail;
    if (!view.state || event.stream !== `session:${view.id}`) return;
    const change = sessionFold.apply(view.state, event);
    if (change) redraw(change, event);
  });
  gateway.addEventListener("ready", () => {
    // after a reconnect the socket resumes the stream; a fresh socket attends again
    if (view.id && !gateway.lastSeq.has(`session:${view.id}`)) attend(view.id);
    applyRole();
  });
  host.init({ command, state, me, render });
  talk.init({ gateway, command, state, me: () => ui.me, shownId: () => view.id });
  board.init({ command, state, me, takesPart, speaks });
  pairs.init({ gateway, command, state, me: () => ui.me, shownId: () => view.id, takesPart, speaks,
    runs: () => can(ACTIONS.run) });
  pairsHost.init({ command, state, me: () => ui.me });
  stageMedia.init({ state, me });
}

// --- commands ----------------------------------------------------------------------------------

// One session command; a refusal shows in the session's alert box (and rejects).
export async function command(op, fields = {}, session = view.id) {
  showError($("session-error"), "");
  try {
    return await gateway.command("session", { session, op: { op, ...fields } });
  } catch (error) {
    const message = (error && error.message) || "The server refused that.";
    if (ui.pane === "session" && !$("session-live").hidden) showError($("session-error"), message);
    else toast(message);
    throw error;
  }
}

// --- finding and opening a session ----------------------------------------------------------

// The room's sessions: a live one opens at once; otherwise a list, and the open form for hosts.
export async function showForRoom(room) {
  if (!room) return;
  view.room = room;
  ctx.showPane("session");
  $("room-name").textContent = "Session";
  let sessions = [];
  try {
    const answer = await get(`/api/rooms/${encodeURIComponent(room)}/sessions`);
    sessions = Array.isArray(answer) ? answer : answer.sessions || [];
  } catch (error) {
    toast(error.message);
  }
  if (view.room !== room || ui.pane !== "session") return;
  const current = sessions.find((s) => s.phase !== "ended");
  if (current) {
    show(current.session);
    return;
  }
  showPicker(sessions);
}

async function showPicker(sessions) {
  if (view.id) gateway.unfollow(`session:${view.id}`); // no longer shown: stop folding it
  view.id = null;
  stageMedia.show(null);
  view.state = null;
  $("session-live").hidden = true;
  $("session-pick").hidden = false;
  $("session-none").hidden = false;
  const list = $("live-session-list");
  list.replaceChildren(...sessions.map((s) => {
    const item = el("li");
    const link = el("a", "", s.title || s.session);
    link.href = `/s/${encodeURIComponent(s.session)}`;
    link.dataset.internal = "";
    item.append(link, el("span", "muted small", ` ${s.phase || ""}`));
    return item;
  }));
  const form = $("session-open-form");
  form.hidden = !can(ACTIONS.open);
  if (!form.hidden) {
    const select = $("session-open-template");
    const options = [["", "Community hour (pairs 10, presentation 50, Q&A 15)"]];
    try {
      const saved = await get(`/api/communities/${encodeURIComponent(ui.communityId)}/templates`);
      for (const t of Array.isArray(saved) ? saved : saved.templates || []) {
        if (t.name !== "community hour") options.push([t.name, t.name]);
      }
    } catch {
      // the default template is always there
    }
    select.replaceChildren(...options.map(([value, label]) => {
      const option = el("option", "", label);
      option.value = value;
      return option;
    }));
  }
}

async function openSession() {
  const title = $("session-open-title").value.trim();
  if (!title) throw new Error("Give the session a title.");
  const ack = await gateway.command("session", { // no session yet: the server picks its id
    op: {
      op: "open", room: view.room, title, template: $("session-open-template").value || null,
      keep_transcript: $("session-open-keep").checked,
    },
  });
  const stream = ack.stream || (ack.sync && ack.sync.stream) || "";
  const id = ack.session || stream.slice("session:".length);
  history.pushState(null, "", `/s/${encodeURIComponent(id)}`);
  show(id);
}

// Show one session: follow its stream (the attend ack carries the snapshot).
export function show(id) {
  if (view.id !== id) {
    if (view.id) gateway.unfollow(`session:${view.id}`);
    view.id = id;
    view.state = null;
    talk.reset();
    pairs.reset();
    pairsHost.reset();
    stageMedia.show(null);
  }
  ctx.showPane("session");
  $("session-pick").hidden = true;
  $("session-live").hidden = false;
  if (view.state) render();
  else attend(id);
}

async function attend(id) {
  try {
    const ack = await command("attend", {}, id);
    if (view.id !== id) return;
    stageMedia.show(id); // an attendee now: room-wide video may be received
    if (!view.state && ack.sync && ack.sync.snapshot) { // the snapshot listener usually drew it
      view.state = sessionFold.fromSnapshot(ack.sync.snapshot, ack.sync.seq);
      render();
    }
  } catch {
    // the alert box says why
  }
}

// The path /s/<session>: find its community and room, enter them, show it.
export async function openDirect(id) {
  let snapshot;
  try {
    ({ snapshot } = await get(`/api/sessions/${encodeURIComponent(id)}`));
  } catch (error) {
    toast(error.message);
    if (ui.account) ctx.navigate("/", { replace: true });
    return;
  }
  const community = snapshot.community;
  view.id = null;
  const go = () => {
    view.room = snapshot.room;
    show(id);
  };
  if (ui.communityId === community && gateway.state === "live") {
    ctx.showScreen("shell");
    go();
    return;
  }
  if (ui.guest) await ctx.enterGuest?.();
  else ctx.enterCommunity(community);
  const ready = () => { gateway.removeEventListener("ready", ready); go(); };
  gateway.addEventListener("ready", ready);
}

// Entering a room: say on its Session button whether a session is live there now.
async function markLive(room) {
  const button = $("session-button");
  let live = false;
  try {
    const sessions = await get(`/api/rooms/${encodeURIComponent(room)}/sessions`);
    live = sessions.some((s) => s.phase !== "ended");
  } catch {
    // the button still opens the room's sessions
  }
  if (ui.current !== room) return;
  button.textContent = live ? "Session · live" : "Session";
  button.classList.toggle("live", live);
}

// --- drawing -----------------------------------------------------------------------------------

export function render() {
  const s = view.state;
  if (!s || ui.pane !== "session") return;
  $("room-name").textContent = `Session: ${s.title}`;
  $("session-title").textContent = s.title;
  const kept = s.keep_transcript
    ? "The transcript of this session is kept: chat, questions, notes and captions are recorded."
    : "The transcript of this session is not kept.";
  $("session-transcript").textContent = kept;
  const link = $("session-transcript-link"); // the transcript page (web/transcript.js)
  link.href = `/s/${encodeURIComponent(s.session)}/transcript`;
  link.hidden = !s.keep_transcript;
  if (view.announcedTranscript !== s.session) { // said once on joining, for screen readers too
    view.announcedTranscript = s.session;
    toast(s.keep_transcript ? "Transcript kept" : "Transcript not kept");
  }
  redraw({ timer: true, agenda: true, stage: true, hands: true, board: true, record: true,
    people: true, prompts: true, pairs: true }, null);
  talk.renderAll();
}

function redraw(change, event) {
  const s = view.state;
  if (change.timer) clock.render(s);
  if (change.warned) clock.warn(change.warned);
  if (change.agenda || change.timer) host.renderAgenda();
  if (change.timer || change.record || change.people || change.agenda) host.renderConsole();
  if (change.stage || change.hands || change.people) renderStage();
  if (change.stage || change.ended || change.timer) stageMedia.stageChanged();
  if (change.board) board.render();
  if (change.record) renderRecord();
  if (change.people) renderAttendees();
  if (change.prompts || change.agenda || change.timer || change.stage) renderPrompts();
  if (change.said && event) talk.add(change.said);
  if (change.erased) talk.erase(change.erased);
  if (change.ended) pairs.ended(change.ended);
  if (change.pairs || change.timer || change.people || change.agenda) {
    pairs.render();
    pairsHost.render();
  }
  if (change.people || change.record) talk.renderForm({ speaks: speaks() || isScribe(), notes: isScribe() || can(ACTIONS.run) });
}

function renderRecord() {
  const s = view.state;
  const box = $("session-offrecord");
  box.hidden = !s.off_record;
  if (s.off_record) {
    const who = s.attendees.get(s.off_record.by);
    box.textContent = `Off the record since ${formatClock(s.off_record.since_ms)}`
      + (who ? ` (${who.name})` : "") + ": chat and notes now reach those present and are not kept.";
  }
  document.body.classList.toggle("off-record", Boolean(s.off_record) && ui.pane === "session");
}

function renderStage() {
  const s = view.state;
  const runs = can(ACTIONS.run) && s.phase !== "ended";
  const people = sessionFold.stage(s);
  $("stage-list").replaceChildren(...(people.length ? people.map((p) => {
    const item = el("li", "chip");
    item.append(el("span", "avatar small", initials(p.name)), el("span", "", p.name));
    if (runs) item.append(host.stageOffButton(p));
    return item;
  }) : [el("li", "muted small", "Nobody on stage yet.")]));
  host.renderStageAdd();
  const mine = s.hands.has(me());
  const hand = $("hand-button");
  hand.hidden = !takesPart() || s.phase === "ended" || onStage();
  hand.textContent = mine ? "Lower hand" : "Raise hand";
  hand.setAttribute("aria-pressed", String(mine));
  hand.onclick = () => command(mine ? "lower_hand" : "raise_hand", mine ? { member: me() } : {}).catch(() => {});
  host.renderHands();
}

function renderAttendees() {
  const s = view.state;
  const people = [...s.attendees.values()].sort((a, b) => a.name.localeCompare(b.name));
  $("attendees-title").textContent = `Here (${people.length})`;
  $("attendee-list").replaceChildren(...people.map((p) => {
    const item = el("li", "person");
    item.append(el("span", "avatar small", initials(p.name)), el("span", "", p.name));
    if (p.member === me()) item.append(el("span", "muted", " (you)"));
    if (p.guest) item.append(el("span", "muted small", " guest"));
    if (s.scribe && s.scribe.member === p.member) item.append(el("span", "role-badge", "scribe"));
    return item;
  }));
}

// During a case segment everyone sees the presenter's prompts; the presenter (on stage)
// and the host fill them in.
function renderPrompts() {
  const s = view.state;
  const segment = s.agenda[s.index];
  const isCase = segment && segment.kind === "case" && s.phase !== "ended";
  $("session-prompts").hidden = !isCase;
  if (!isCase) return;
  const prompts = s.case_prompts.get(s.index);
  const rows = [["The situation", "situation"], ["What was tried", "tried"], ["The question for the group", "question"]];
  $("prompts-list").replaceChildren(...(prompts ? rows.flatMap(([label, key]) => [
    el("dt", "", label), el("dd", "", prompts[key] || "—"),
  ]) : [el("dd", "muted", "The presenter has not filled in the case yet.")]));
  const edits = can(ACTIONS.run) || onStage();
  $("prompts-edit").hidden = !edits;
  const rounds = sessionFold.roundCount(segment);
  if (rounds) {
    const now = s.round ? ` (round ${s.round} now)` : "";
    $("prompts-list").append(el("dt", "", "Peer advice"),
      el("dd", "", `${rounds} round${rounds === 1 ? "" : "s"} of ${segment.round_minutes} min${now}`));
  }
  const form = $("prompts-form");
  form.onsubmit = (e) => {
    e.preventDefault();
    command("case_prompts", {
      segment: s.index, situation: $("prompts-situation").value,
      tried: $("prompts-tried").value, question: $("prompts-question").value,
    }).catch(() => {});
  };
}


export function applyRole() {
  if (view.state && ui.pane === "session") render();
}
