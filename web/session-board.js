// The Q&A board of a live session: ask (optionally anonymously), upvote once, edit or
// withdraw your own question; a host pins, marks answered or dismisses. Sorted by votes
// (pinned first) and redrawn on every board event, so upvotes reorder it live.
// An anonymous question carries no asker: GET /api/sessions/{id} says which questions
// are yours (only to you), so you can still edit or withdraw your own.

import { $, button, el } from "./dom.js";
import { get } from "./api.js";
import { can } from "./can.js";
import { board as sortedBoard } from "./folds/session.js";

let deps = null;
let editing = null; // {question, draft}: your question being edited
const MODERATE = "moderate_questions";

export function init(options) {
  deps = options;
  $("ask-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("ask-text").value.trim();
    if (!text) return;
    const anonymous = $("ask-anonymous").checked;
    try {
      await deps.command("ask", { text, anonymous });
      $("ask-text").value = "";
      refreshMine(); // an anonymous question's event names nobody: the server says it is yours
      $("ask-anonymous").checked = false;
    } catch {
      // the session's alert box says why
    }
  });
}

let mine = { session: null, questions: new Set() };

// Ask the server which questions are yours (after joining, and after you ask one).
export async function refreshMine() {
  const state = deps.state();
  if (!state) return;
  const session = state.session;
  try {
    const view = await get(`/api/sessions/${encodeURIComponent(session)}`);
    if (!deps.state() || deps.state().session !== session) return;
    mine = { session, questions: new Set(view.mine || []) };
    render();
  } catch {
    // named questions are still known as yours; anonymous ones show as anyone's
  }
}

const isMine = (q) => (q.asker !== null && q.asker === deps.me())
  || (mine.session === deps.state().session && mine.questions.has(q.question));

export function render() {
  const s = deps.state();
  if (!s) return;
  $("ask-form").hidden = !deps.speaks() || s.phase === "ended";
  const list = $("board");
  const active = list.contains(document.activeElement) ? document.activeElement : null;
  const focused = active ? active.getAttribute("aria-label") : null;
  const caret = active && active.tagName === "TEXTAREA" ? active.selectionStart : null;
  const questions = sortedBoard(s);
  list.replaceChildren(...(questions.length ? questions.map((q) => questionItem(s, q))
    : [el("li", "muted small", "No questions yet.")]));
  if (focused) {
    const again = list.querySelector(`[aria-label="${CSS.escape(focused)}"]`);
    again?.focus();
    if (again && caret !== null) again.setSelectionRange(caret, caret);
  }
}

function questionItem(s, q) {
  const item = el("li", `question ${q.state}${q.pinned ? " pinned" : ""}`);
  item.dataset.question = String(q.question);
  const mine = isMine(q);
  const voted = q.voters.includes(deps.me());
  const votes = el("span", "votes", String(q.votes));
  votes.setAttribute("aria-label", `${q.votes} vote${q.votes === 1 ? "" : "s"}`);
  votes.dataset.votes = String(q.votes);
  const body = el("div", "question-body");
  const meta = el("p", "question-meta muted small");
  meta.textContent = (q.anonymous ? "Anonymous" : q.asker_name)
    + (mine ? " (you)" : "") + (q.pinned ? " · pinned" : "") + (q.state === "answered" ? " · answered" : "");
  body.append(el("p", "question-text", q.text), meta);
  const short = q.text.length > 40 ? `${q.text.slice(0, 40).trimEnd()}…` : q.text;
  const actions = el("div", "row-buttons question-actions");
  const live = s.phase !== "ended";
  if (live && q.state === "open" && deps.takesPart() && !mine) {
    const vote = button(voted ? "Unvote" : "Upvote", voted ? "primary small" : "ghost small",
      () => deps.command(voted ? "unvote" : "upvote", { question: q.question }).catch(() => {}));
    vote.setAttribute("aria-pressed", String(voted));
    vote.setAttribute("aria-label", `${voted ? "Take back your vote for" : "Upvote"} “${short}”`);
    actions.append(vote);
  }
  if (live && mine && q.state === "open") {
    const edit = button("Edit", "ghost small", () => startEdit(q));
    edit.setAttribute("aria-label", `Edit your question “${short}”`);
    const withdraw = button("Withdraw", "ghost small danger",
      () => deps.command("withdraw", { question: q.question }).catch(() => {}));
    withdraw.setAttribute("aria-label", `Withdraw your question “${short}”`);
    actions.append(edit, withdraw);
  }
  if (live && can(MODERATE) && q.state === "open") {
    const pin = button(q.pinned ? "Unpin" : "Pin", "ghost small",
      () => deps.command("pin", { question: q.question, pinned: !q.pinned }).catch(() => {}));
    pin.setAttribute("aria-label", `${q.pinned ? "Unpin" : "Pin"} “${short}”`);
    const answer = button("Answered", "ghost small",
      () => deps.command("answer", { question: q.question }).catch(() => {}));
    answer.setAttribute("aria-label", `Mark “${short}” answered`);
    const dismiss = button("Dismiss", "ghost small danger",
      () => deps.command("dismiss", { question: q.question }).catch(() => {}));
    dismiss.setAttribute("aria-label", `Dismiss “${short}”`);
    actions.append(pin, answer, dismiss);
  }
  if (editing && editing.question === q.question && mine && live && q.state === "open") {
    body.querySelector(".question-text").replaceWith(editForm(q));
    actions.replaceChildren();
  }
  item.append(votes, body, actions);
  return item;
}

// Your question being edited survives redraws (a vote elsewhere reorders the board).
function startEdit(q) {
  editing = { question: q.question, draft: q.text };
  render();
  $("board").querySelector(`li[data-question="${q.question}"] textarea`)?.focus();
}

function editForm(q) {
  const form = el("form", "edit-form");
  const text = el("textarea", "edit-input");
  text.value = editing.draft;
  text.maxLength = 4000;
  text.setAttribute("aria-label", "Edit your question");
  text.addEventListener("input", () => { editing.draft = text.value; });
  const save = el("button", "primary small", "Save");
  save.type = "submit";
  const stop = () => {
    editing = null;
    render();
  };
  const cancel = button("Cancel", "ghost small", stop);
  form.append(text, save, cancel);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await deps.command("edit_question", { question: q.question, text: text.value.trim() });
      stop();
    } catch {
      // the alert box says why; the form stays for another try
    }
  });
  text.addEventListener("keydown", (e) => { if (e.key === "Escape") stop(); });
  return form;
}
