// A live session's transcript (/s/<session>/transcript): what was said, segment by
// segment, with times in the viewer's own time zone, links to the Markdown, WebVTT and
// JSON exports, and (for the session's hosts and its scribe) a form to add captions from
// a WebVTT file. The page reads GET /api/sessions/<id>/transcript.json; every piece of
// user text goes in with textContent.

import { get, postFile } from "./api.js";
import { $, el, formatClock, formatDateTime, timeElement } from "./dom.js";

let ctx;
let current = null; // the session shown
let shown = null; // its transcript, as read

// The transcript on the page (its community and session), for the artefact form.
export function currentTranscript() {
  return shown;
}

// The seqs of the lines selected (to quote in an artefact), in order.
export function selectedSeqs() {
  return [...document.querySelectorAll("#transcript-segments input.line-select:checked")]
    .map((box) => Number(box.value)).sort((a, b) => a - b);
}

const QUOTABLE = ["chat", "note", "caption", "question", "answer", "case"];

const RUNNING = ["host", "convener", "owner"];

export function init(context) {
  ctx = context;
  const form = $("caption-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = $("caption-error");
    error.hidden = true;
    const file = $("caption-file").files[0];
    if (!file) {
      error.textContent = "Choose a WebVTT file (.vtt) first.";
      error.hidden = false;
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const added = await postFile(`/api/sessions/${encodeURIComponent(current)}/captions`,
        await file.text(), "text/vtt");
      $("caption-done").textContent = `Added ${added.cues} caption${added.cues === 1 ? "" : "s"}.`;
      $("caption-file").value = "";
      await load(current);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}

// The time zone the Markdown export should use: the profile's, else the browser's.
function viewerZone() {
  const account = ctx.ui.account;
  return (account && account.timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export async function show(session) {
  current = session;
  ctx.showScreen("transcript");
  document.title = "Transcript · Practica";
  $("transcript-title").textContent = "Transcript";
  $("transcript-meta").textContent = "Loading…";
  $("transcript-segments").replaceChildren();
  $("caption-form").hidden = true;
  $("excerpt-form").hidden = true;
  $("caption-done").textContent = "";
  const base = `/api/sessions/${encodeURIComponent(session)}/transcript`;
  $("export-md").href = `${base}.md?tz=${encodeURIComponent(viewerZone())}`;
  $("export-vtt").href = `${base}.vtt`;
  $("export-json").href = `${base}.json`;
  $("transcript-back").href = `/s/${encodeURIComponent(session)}`;
  await load(session);
}

async function load(session) {
  const error = $("transcript-error");
  error.hidden = true;
  let transcript;
  try {
    transcript = await get(`/api/sessions/${encodeURIComponent(session)}/transcript.json`);
  } catch (err) {
    if (session !== current) return;
    $("transcript-meta").textContent = "";
    error.textContent = err.status === 401 ? "Sign in to read this transcript." : err.message;
    error.hidden = false;
    return;
  }
  if (session !== current) return;
  render(transcript);
}

function mayAddCaptions(transcript) {
  const me = ctx.ui.account ? ctx.ui.account.id : ctx.ui.guest && ctx.ui.guest.member;
  const membership = ctx.ui.memberships.find((m) => m.community === transcript.community);
  return Boolean(ctx.ui.account) && (me === transcript.scribe
    || Boolean(membership && RUNNING.includes(membership.role)));
}

function render(transcript) {
  shown = transcript;
  $("transcript-title").textContent = transcript.title || "Transcript";
  document.title = `${transcript.title} · Transcript · Practica`;
  const when = transcript.started ? `started ${formatDateTime(transcript.started)}`
    : `opened ${formatDateTime(transcript.opened)}, not started`;
  const ended = transcript.ended ? `, ended ${formatClock(transcript.ended)}` : "";
  const kept = transcript.keep_transcript ? "" : " · chat and notes are not kept";
  $("transcript-meta").textContent = `# ${transcript.room_name || transcript.room} · ${when}${ended}${kept}`;
  $("caption-form").hidden = !mayAddCaptions(transcript);
  const list = $("transcript-segments");
  list.replaceChildren();
  if (!transcript.segments.length) list.append(el("p", "muted", "Nothing has been said yet."));
  const start = transcript.started || transcript.opened;
  for (const segment of transcript.segments) list.append(renderSegment(segment, start));
  selectionChanged();
  // A link to one moment (#seq-N, an artefact's provenance): show that line.
  const target = location.hash.startsWith("#seq-") && document.getElementById(location.hash.slice(1));
  if (target) {
    target.classList.add("at-target");
    target.scrollIntoView({ block: "center" });
  }
}

function selectionChanged() {
  const count = selectedSeqs().length;
  $("excerpt-form").hidden = !count;
  $("excerpt-count").textContent = `${count} line${count === 1 ? "" : "s"} selected: the artefact quotes them and links back here.`;
}

function renderSegment(segment, start) {
  const section = el("section", "transcript-segment");
  const heading = el("h2", "", segment.index === null ? "Before the start"
    : `${segment.index + 1}. ${segment.title || segment.kind}`);
  if (segment.started) heading.append(" ", timeElement(segment.started, formatClock(segment.started)));
  section.setAttribute("aria-label", heading.textContent);
  const lines = el("ol", "transcript-lines");
  for (const line of segment.lines) lines.append(renderLine(line, start));
  section.append(heading, lines);
  return section;
}

// A caption shows at its cue's time in the session; every other line when it was said.
function renderLine(line, start) {
  const item = el("li", `transcript-line kind-${line.kind}`);
  item.dataset.seq = line.seq;
  item.id = `seq-${line.seq}`;
  if (ctx.ui.account && QUOTABLE.includes(line.kind)) {
    const box = el("input", "line-select");
    box.type = "checkbox";
    box.value = String(line.seq);
    box.setAttribute("aria-label", `Select line ${line.seq}`);
    box.addEventListener("change", selectionChanged);
    item.append(box);
  }
  const when = line.kind === "caption" ? start + line.at_ms : line.ts;
  item.append(timeElement(when, formatClock(when)), " ");
  const who = line.who ? el("strong", "", line.who) : null;
  if (line.kind === "off_record") {
    const until = line.until ? formatClock(line.until) : "now";
    item.append(el("em", "", `Off the record from ${formatClock(line.ts)} to ${until} by ${line.who}`));
    return item;
  }
  if (line.kind === "question") {
    const votes = `${line.votes} vote${line.votes === 1 ? "" : "s"}`;
    item.append(el("span", "transcript-tag", `Question ${line.question}`), " ", who || "",
      el("span", "muted", ` (${votes}, ${line.status}): `), el("span", "transcript-text", line.text));
    return item;
  }
  if (["segment", "session", "stage", "answer", "pairs"].includes(line.kind)) {
    item.append(el("em", "", line.text));
    if (who) item.append(el("span", "muted", ` (${line.who})`));
    return item;
  }
  const tag = { note: "Note", caption: "Caption", case: "Case", takeaway: "Takeaway", broadcast: "Broadcast" }[line.kind];
  if (tag) item.append(el("span", "transcript-tag", tag), " ");
  if (who) item.append(who, ": ");
  item.append(el("span", "transcript-text", line.text));
  return item;
}
