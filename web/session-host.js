// The host console of a live session: timer controls (start, advance, back, +1/+5 min,
// pause, resume, end; in a case consultation, next round and previous round), off the record, naming the scribe, the stage, the hand queue
// (in order, with "bring up") and the agenda editor (segment kinds and minutes; save as
// template). Shown only when ready's actions allow running a session; the server checks
// every command anyway.

import { $, button, el, field, input, select } from "./dom.js";
import { can } from "./can.js";
import { post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { kindName } from "./session-clock.js";
import { hands, roundCount } from "./folds/session.js";

let deps = null;
let editing = null; // the agenda being edited (a copy), or null

const KINDS = ["pairs", "presentation", "qa", "case", "open", "break"];
const RUN = "run_session";
const TEMPLATE = "save_template";

export function init(options) {
  deps = options;
}

const runs = () => can(RUN);
const send = (op, fields) => deps.command(op, fields).catch(() => {});

// --- the console ------------------------------------------------------------------------------

export function renderConsole() {
  const s = deps.state();
  const box = $("session-console");
  box.hidden = !runs();
  if (box.hidden || !s) return;
  const timer = $("console-timer");
  const buttons = [];
  const last = s.index >= s.agenda.length - 1;
  if (s.phase === "lobby") buttons.push(button("Start session", "primary", () => send("start")));
  if (s.phase === "running" || s.phase === "paused") {
    buttons.push(button("Back", "ghost", () => send("back")));
    buttons[0].disabled = s.index === 0;
    const next = button(last ? "Advance (last segment)" : "Advance", "primary", () => send("advance"));
    next.disabled = last;
    buttons.push(next);
    const rounds = roundCount(s.agenda[s.index]);
    if (rounds > 0) { // a case consultation: its timed rounds of peer advice
      // The round this console shows goes with the command: two hosts pressing at once
      // move the case one round (the second is refused).
      const previous = button("Previous round", "ghost", () => send("round_back", { round: s.round }));
      previous.disabled = s.round === 0 || s.phase !== "running";
      const nextRound = button(s.round >= rounds ? "Next round (last round)" : "Next round", "primary",
        () => send("next_round", { round: s.round }));
      nextRound.disabled = s.round >= rounds || s.phase !== "running";
      nextRound.dataset.round = String(s.round);
      buttons.push(previous, nextRound);
    }
    buttons.push(button("+1 min", "ghost", () => send("extend", { minutes: 1 })));
    buttons.push(button("+5 min", "ghost", () => send("extend", { minutes: 5 })));
    buttons.at(-2).setAttribute("aria-label", "Extend by 1 minute");
    buttons.at(-1).setAttribute("aria-label", "Extend by 5 minutes");
    buttons.push(s.phase === "paused"
      ? button("Resume", "ghost", () => send("resume"))
      : button("Pause", "ghost", () => send("pause")));
  }
  if (s.phase !== "ended") {
    buttons.push(button("End session", "ghost danger", async () => {
      const sure = await confirmAction({
        title: "End this session?", text: "Everyone sees that the session has ended; it cannot be restarted.",
        confirm: "End session",
      });
      if (sure) send("end");
    }));
  }
  replaceKeepingFocus(timer, buttons);
  const record = $("console-record");
  const extras = [];
  if (s.phase !== "ended") {
    const off = Boolean(s.off_record);
    const toggle = button(off ? "Back on the record" : "Go off the record", off ? "primary" : "ghost",
      () => send("off_record", { on: !off }));
    toggle.setAttribute("aria-pressed", String(off));
    extras.push(toggle);
    const people = [...s.attendees.values()].filter((p) => !p.guest);
    if (people.length) {
      const before = $("scribe-select"); // a choice not yet sent survives a redraw
      const chosen = before && people.some((p) => p.member === before.value) ? before.value : null;
      const choose = select([["", "Choose the scribe…"], ...people.map((p) => [p.member, p.name])],
        chosen ?? (s.scribe ? s.scribe.member : ""));
      choose.id = "scribe-select";
      const label = field("Scribe", choose, "field");
      const name = button("Name scribe", "ghost small", () => {
        if (choose.value) send("name_scribe", { member: choose.value });
      });
      extras.push(label, name);
    }
  }
  replaceKeepingFocus(record, extras);
}

// A toggle's other face: after pressing one, the focus goes to what replaced it.
const TOGGLED = {
  Pause: "Resume", Resume: "Pause", "Go off the record": "Back on the record",
  "Back on the record": "Go off the record", "Start session": "Advance",
};

// Rebuilding a row of buttons would drop the focus of someone using the keyboard: put it
// back on the button with the same text (or the toggle's other face).
function replaceKeepingFocus(box, nodes) {
  const focused = box.contains(document.activeElement) ? document.activeElement.textContent : null;
  if (focused && document.activeElement.tagName === "SELECT") return; // choosing: leave it be
  box.replaceChildren(...nodes);
  if (focused) {
    const buttons = [...box.querySelectorAll("button")].filter((b) => !b.disabled);
    const again = buttons.find((b) => b.textContent === focused)
      || buttons.find((b) => b.textContent === TOGGLED[focused]);
    (again || box.querySelector("button:not([disabled])"))?.focus();
  }
}

// --- stage and hands ------------------------------------------------------------------------

export function stageOffButton(person) {
  const off = button("Off stage", "ghost small", () => send("stage", { member: person.member, on: false }));
  off.setAttribute("aria-label", `Take ${person.name} off stage`);
  return off;
}

export function renderStageAdd() {
  const s = deps.state();
  const box = $("stage-add");
  box.hidden = !runs() || s.phase === "ended";
  if (box.hidden) return;
  const onStage = s.stage;
  const candidates = [...s.attendees.values()].filter((p) => !onStage.has(p.member));
  if (!candidates.length) {
    box.replaceChildren();
    return;
  }
  if (box.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
  const before = $("stage-choose");
  const choose = select(candidates.map((p) => [p.member, p.name]));
  if (before && candidates.some((p) => p.member === before.value)) choose.value = before.value;
  choose.id = "stage-choose";
  box.replaceChildren(field("Put on stage", choose),
    button("Put on stage", "ghost small", () => send("stage", { member: choose.value, on: true })));
}

export function renderHands() {
  const s = deps.state();
  const list = $("hands-list");
  const queue = hands(s);
  const showQueue = runs() || queue.length > 0;
  $("hands-title").hidden = !showQueue;
  list.hidden = !showQueue;
  $("hands-title").textContent = `Raised hands (${queue.length})`;
  list.replaceChildren(...(queue.length ? queue.map((p, i) => {
    const item = el("li", "hand");
    item.append(el("span", "", `${i + 1}. ${p.name}`));
    if (p.member === deps.me()) item.append(el("span", "muted small", " (you)"));
    if (runs() && s.phase !== "ended") {
      const up = button("Bring up", "primary small", () => send("bring_up", { member: p.member }));
      up.setAttribute("aria-label", `Bring ${p.name} up on stage`);
      const lower = button("Lower", "ghost small", () => send("lower_hand", { member: p.member }));
      lower.setAttribute("aria-label", `Lower ${p.name}'s hand`);
      item.append(up, lower);
    }
    return item;
  }) : [el("li", "muted small", "No hands raised.")]));
}

// --- the agenda ---------------------------------------------------------------------------------

export function renderAgenda() {
  const s = deps.state();
  if (!s) return;
  $("agenda-list").replaceChildren(...s.agenda.map((segment, i) => {
    const item = el("li", "agenda-item");
    if (s.phase !== "lobby" && s.phase !== "ended" && i === s.index) {
      item.classList.add("current");
      item.setAttribute("aria-current", "step");
    }
    const about = [segment.title === kindName(segment.kind) ? "" : kindName(segment.kind),
      `${segment.minutes} min`, roundCount(segment) ? `then ${segment.rounds} × ${segment.round_minutes} min rounds` : "",
      segment.auto_advance ? "moves on by itself" : ""].filter(Boolean).join(" · ");
    item.append(el("span", "", segment.title), el("span", "muted small", ` ${about}`));
    return item;
  }));
  const opener = $("agenda-edit-open");
  const canEdit = runs() && s.phase !== "ended";
  opener.hidden = !canEdit || Boolean(editing);
  if (!canEdit) editing = null;
  $("agenda-editor").hidden = !editing;
  if (!canEdit || opener.childElementCount) return;
  opener.replaceChildren(button("Edit agenda", "ghost small", () => {
    editing = deps.state().agenda.map((seg) => ({ ...seg }));
    opener.hidden = true;
    drawEditor();
    $("agenda-editor").querySelector("select, input")?.focus();
  }));
}

function drawEditor() {
  const editor = $("agenda-editor");
  const form = el("form", "agenda-form stack-form");
  form.setAttribute("aria-label", "Edit the agenda");
  form.noValidate = true; // the server says what is wrong (and the alert shows it)
  const rows = el("ol", "agenda-rows");
  editing.forEach((segment, i) => rows.append(segmentRow(segment, i)));
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const add = button("Add segment", "ghost small", () => {
    editing.push({ kind: "open", title: "Open discussion", minutes: 10, auto_advance: false, rounds: 0, round_minutes: 0 });
    drawEditor();
    $("agenda-editor").querySelectorAll(".agenda-row select")[editing.length - 1]?.focus();
  });
  const save = el("button", "primary small", "Save agenda");
  save.type = "submit";
  const cancel = button("Cancel", "ghost small", () => closeEditor());
  const name = input("text", { maxlength: 80, id: "template-name" });
  const saveTemplate = button("Save as template", "ghost small", async () => {
    error.hidden = true;
    const templateName = name.value.trim();
    if (!templateName) {
      error.textContent = "Name the template first.";
      error.hidden = false;
      return;
    }
    try {
      await post(`/api/communities/${encodeURIComponent(window.practica.ui.communityId)}/templates`,
        { name: templateName, agenda: editing.map(clean) });
      error.textContent = "";
      name.value = "";
      saveTemplate.textContent = "Template saved";
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  });
  const templateRow = el("div", "inline-form");
  templateRow.append(field("Template name", name));
  templateRow.append(saveTemplate);
  templateRow.hidden = !can(TEMPLATE);
  const row = el("div", "row-buttons");
  row.append(add, save, cancel);
  form.append(rows, row, templateRow, error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = agendaProblem(editing);
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    try {
      await deps.command("edit_agenda", { agenda: editing.map(clean) });
      closeEditor();
    } catch (problem) {
      error.textContent = problem.message || "The agenda was not saved.";
      error.hidden = false;
    }
  });
  editor.replaceChildren(form);
  editor.hidden = false;
}

function closeEditor() {
  editing = null;
  $("agenda-editor").replaceChildren();
  renderAgenda();
  $("agenda-edit-open").querySelector("button")?.focus();
}

// What is wrong with an agenda, said plainly (the server checks the same limits).
export function agendaProblem(agenda) {
  for (const [i, seg] of agenda.entries()) {
    const minutes = Number(seg.minutes);
    if (!String(seg.title || "").trim()) return `Segment ${i + 1} needs a title.`;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 240) {
      return `Segment ${i + 1}: minutes must be a whole number from 1 to 240.`;
    }
  }
  return "";
}

const clean = (seg) => ({
  kind: seg.kind, title: seg.title, minutes: Number(seg.minutes), auto_advance: Boolean(seg.auto_advance),
  rounds: Number(seg.rounds || 0), round_minutes: Number(seg.round_minutes || 0),
});

function segmentRow(segment, i) {
  const row = el("li", "agenda-row");
  const n = i + 1;
  const kind = select(KINDS.map((k) => [k, kindName(k)]), segment.kind);
  kind.addEventListener("change", () => {
    segment.kind = kind.value;
    drawEditor();
    $("agenda-editor").querySelectorAll(".agenda-row select")[i]?.focus();
  });
  const title = input("text", { maxlength: 200, value: segment.title });
  title.addEventListener("input", () => { segment.title = title.value; });
  const minutes = input("number", { min: 1, max: 240, value: segment.minutes });
  minutes.addEventListener("input", () => { segment.minutes = minutes.value; });
  const auto = input("checkbox");
  auto.checked = Boolean(segment.auto_advance);
  auto.addEventListener("change", () => { segment.auto_advance = auto.checked; });
  row.append(field(`Segment ${n} kind`, kind), field(`Segment ${n} title`, title, "field wide"),
    field(`Segment ${n} minutes`, minutes, "field narrow"));
  const autoLabel = el("label", "check");
  autoLabel.append(auto, document.createTextNode(" Moves on by itself"));
  row.append(autoLabel);
  if (segment.kind === "case") {
    const rounds = input("number", { min: 0, max: 20, value: segment.rounds || 0 });
    rounds.addEventListener("input", () => { segment.rounds = rounds.value; });
    const roundMinutes = input("number", { min: 0, max: 60, value: segment.round_minutes || 0 });
    roundMinutes.addEventListener("input", () => { segment.round_minutes = roundMinutes.value; });
    row.append(field(`Segment ${n} advice rounds`, rounds, "field narrow"),
      field(`Segment ${n} minutes per round`, roundMinutes, "field narrow"));
  }
  const up = button("↑", "ghost small", () => move(i, -1));
  up.setAttribute("aria-label", `Move segment ${n} up`);
  up.disabled = i === 0;
  const down = button("↓", "ghost small", () => move(i, 1));
  down.setAttribute("aria-label", `Move segment ${n} down`);
  down.disabled = i === editing.length - 1;
  const remove = button("Remove", "ghost small danger", () => {
    editing.splice(i, 1);
    drawEditor();
  });
  remove.setAttribute("aria-label", `Remove segment ${n}`);
  remove.disabled = editing.length === 1;
  const buttons = el("div", "row-buttons");
  buttons.append(up, down, remove);
  row.append(buttons);
  return row;
}

function move(i, by) {
  const [segment] = editing.splice(i, 1);
  editing.splice(i + by, 0, segment);
  drawEditor();
}
