// The talk of a live session: its chat, the scribe's and hosts' notes, captions and the
// takeaways shared after pair-ups as they are said (events of the stream, the
// transcript), what was said before you came
// (from the transcript), and what is said off the record (relayed to those present,
// never stored; your own words show to you after the server took them). Words erased
// for privacy (words_erased) show as "(erased)" in their place.

import { $, el } from "./dom.js";
import { get } from "./api.js";

let deps = null;
let said = []; // chat, notes and captions seen, in order
let erased = new Set(); // seqs erased while shown: an earlier-lines answer read before does not bring them back

export function init(options) {
  deps = options;
  $("say-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("say-text").value.trim();
    if (!text) return;
    const note = $("say-note").checked && !$("say-note-box").hidden;
    deps.command(note ? "note" : "say", { text }).then((ack) => {
      $("say-text").value = "";
      // Off the record nothing is stored (the ack has no seq) and the relay goes to the
      // others: show your own words here, marked like theirs.
      const state = deps.state();
      if (ack && ack.seq == null && state && state.off_record) {
        add({ kind: note ? "note" : "chat", text, name: deps.me().name, ts: Date.now(), offRecord: true });
      }
    }, () => {});
  });
  deps.gateway.addEventListener("relayed", (e) => {
    const frame = e.detail;
    if (frame.stream !== `session:${deps.shownId()}` || frame.kind !== "off_record") return;
    const data = frame.data || {};
    const kind = { note: "note", caption: "caption" }[data.what] || "chat";
    const name = data.name || data.speaker || (frame.from && frame.from.name) || "";
    add({ kind, text: String(data.text || ""), name: String(name), ts: Date.now(), offRecord: true });
  });
}

export function reset() {
  said = [];
  erased = new Set();
  $("session-chat").replaceChildren();
}

// Who may write here: members chat, the scribe and hosts may also add notes.
export function renderForm({ speaks, notes }) {
  const s = deps.state();
  $("say-form").hidden = !speaks || s.phase === "ended";
  $("say-note-box").hidden = !notes;
  $("say-text").placeholder = s.off_record ? "Off the record: not kept" : "";
}

// What was said before you came (chat, notes, captions up to the snapshot's seq), from
// the transcript; without it the chat starts when you joined.
export async function loadEarlier(id, seq) {
  let transcript;
  try {
    transcript = await get(`/api/sessions/${encodeURIComponent(id)}/transcript.json`);
  } catch {
    return;
  }
  if (deps.shownId() !== id || !transcript || !Array.isArray(transcript.segments)) return;
  const kinds = { chat: "chat", note: "note", caption: "caption", takeaway: "takeaway" };
  const seen = new Set(said.map((item) => item.seq));
  const earlier = transcript.segments.flatMap((segment) => segment.lines || [])
    .filter((line) => kinds[line.kind] && line.seq <= seq && !seen.has(line.seq) && !erased.has(line.seq))
    .map((line) => ({ kind: kinds[line.kind], text: line.text, name: line.who || "", ts: line.ts, seq: line.seq }));
  if (!earlier.length) return;
  said = [...earlier, ...said].slice(-200);
  renderAll();
}

export function add(item) {
  said.push(item);
  if (said.length > 200) said.shift();
  $("session-chat").append(saidItem(item));
  const log = $("session-chat");
  log.scrollTop = log.scrollHeight;
}

// Words erased (the seqs of a words_erased event): their lines read "(erased)".
export function erase(seqs) {
  for (const seq of seqs) erased.add(seq);
  let changed = false;
  for (const item of said) {
    if (item.seq !== undefined && erased.has(item.seq) && !item.erased) {
      Object.assign(item, { erased: true, text: "", name: "" });
      changed = true;
    }
  }
  if (changed) renderAll();
}

export function renderAll() {
  $("session-chat").replaceChildren(...said.map(saidItem));
}

function saidItem(item) {
  if (item.erased) return el("li", "said said-erased muted", "(erased)");
  const row = el("li", `said said-${item.kind}${item.offRecord ? " off" : ""}`);
  const label = { note: "Note", caption: "Caption", takeaway: "Takeaway" }[item.kind] || "";
  if (label) row.append(el("span", "said-kind", `${label} `));
  if (item.name) row.append(el("strong", "", `${item.name}: `));
  row.append(el("span", "", item.text));
  if (item.offRecord) row.append(el("span", "muted small", " (off the record)"));
  return row;
}
