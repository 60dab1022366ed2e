// A live session's transcript (/s/<session>/transcript): what was said, segment by
// segment, with times in the viewer's own time zone, links to the Markdown, WebVTT and
// JSON exports, (for the session's hosts and its scribe) a form to add captions from
// a WebVTT file, and an Erase button on each line the viewer may erase (their own words;
// anyone's for an owner). The page reads GET /api/sessions/<id>/transcript.json; every
// piece of user text goes in with textContent. It stays current while shown in any tab:
// after each read the socket follows the session's stream from the seq it was read at
// (unless this tab follows it already, from the session page), so its events reload the
// page (an erasure at once). Following is read only: it neither attends the session nor
// makes anyone present. A reconnect drops what was followed: the page is read again
// and followed anew; a tab that could not follow reloads when looked at again.

import { get, post, postFile } from "./api.js";
import { confirmAction } from "./confirm.js";
import { $, el, formatClock, formatDateTime, timeElement } from "./dom.js";

let ctx;
let current = null; // the session shown
let shown = null; // its transcript, as read
let loads = 0; // the latest load wins: an older answer arriving late is not drawn
let pending = null; // the debounced reload after a live event
const SETTLE_MS = 800; // events come in bursts (a question and its votes): reload once

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
  const stream = () => `session:${current}`;
  const showing = () => ctx.ui.screen === "transcript" && current !== null;
  // Only events of streams this tab follows arrive (followed after each read, or the
  // session page attended).
  ctx.gateway.addEventListener("event", (e) => {
    if (!showing() || e.detail.stream !== stream()) return;
    const body = e.detail.body;
    if (body && body.type === "words_erased") reloadNow();
    else reloadSoon();
  });
  ctx.gateway.addEventListener("snapshot", (e) => {
    if (showing() && e.detail.stream === stream()) reloadSoon();
  });
  const unfollowed = () => showing() && !ctx.gateway.lastSeq.has(stream());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && unfollowed()) reloadNow();
  });
  // The socket is ready (first connected, or a reconnect, which does not resume what was
  // followed): follow from the seq the page was read at; what it missed is replayed.
  ctx.gateway.addEventListener("ready", () => {
    if (unfollowed() && shown) follow(shown, { ready: true });
  });
}

// Follow the session's stream from the seq the transcript was read at: what changed after
// the read is replayed, then arrives live. Skipped when this tab follows it already; a tab
// with no socket yet (the page opened on its own) connects, and follows once it is ready
// (`ready`: in the socket's ready event, where a command is sent as soon as it is live).
function follow(transcript, { ready = false } = {}) {
  const stream = `session:${transcript.session}`;
  const gateway = ctx.gateway;
  if (!Number.isInteger(transcript.seq) || gateway.lastSeq.has(stream)) return;
  if (gateway.state === "idle") ctx.connectQuietly(transcript.community);
  if (gateway.state !== "live" && !ready) return; // the ready listener follows
  gateway.followStreams({ [stream]: transcript.seq }).catch(() => {
    // not followed (no longer ours to read): it reloads when looked at again
  });
}

function reloadSoon() {
  clearTimeout(pending);
  pending = setTimeout(reloadNow, SETTLE_MS);
}

function reloadNow() {
  clearTimeout(pending);
  pending = null;
  if (current !== null) load(current, { again: true });
}

// The time zone the Markdown export should use: the profile's, else the browser's.
function viewerZone() {
  const account = ctx.ui.account;
  return (account && account.timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export async function show(session) {
  current = session;
  shown = null;
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

// Read the transcript and draw it. `again`: the page shows it already (a live reload,
// after an erasure): keep the lines selected and where the page is scrolled.
async function load(session, { again = false } = {}) {
  const error = $("transcript-error");
  const mine = ++loads;
  let transcript;
  try {
    transcript = await get(`/api/sessions/${encodeURIComponent(session)}/transcript.json`);
  } catch (err) {
    if (session !== current || mine !== loads) return;
    if (!again) $("transcript-meta").textContent = ""; // a reload keeps the lines shown
    error.textContent = err.status === 401 ? "Sign in to read this transcript." : err.message;
    error.hidden = false;
    return;
  }
  if (session !== current || mine !== loads) return;
  error.hidden = true;
  follow(transcript);
  const selected = new Set(again ? selectedSeqs() : []);
  const scrolled = again ? scrollers().map((node) => [node, node.scrollTop]) : [];
  render(transcript, !again);
  for (const box of document.querySelectorAll("#transcript-segments input.line-select")) {
    if (selected.has(Number(box.value))) box.checked = true;
  }
  if (again) selectionChanged();
  for (const [node, top] of scrolled) node.scrollTop = top;
}

// What may be scrolled on this screen: the document, and the screen itself.
function scrollers() {
  return [document.scrollingElement, $("transcript-page")].filter(Boolean);
}

// Erase one line (after asking): the server nulls its words, leaving "(erased)" in place.
async function eraseLine(line) {
  const yes = await confirmAction({
    title: "Erase these words?",
    text: "They leave the transcript, its exports, search and every artefact quoting them, "
      + "for everyone, and cannot be brought back. The line stays as “(erased)”.",
    confirm: "Erase the words",
  });
  if (!yes) return;
  const error = $("transcript-error");
  error.hidden = true;
  try {
    await post(`/api/sessions/${encodeURIComponent(current)}/lines/${line.seq}/erase`);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    return;
  }
  await load(current, { again: true });
}

function mayAddCaptions(transcript) {
  const me = ctx.ui.account ? ctx.ui.account.id : ctx.ui.guest && ctx.ui.guest.member;
  const membership = ctx.ui.memberships.find((m) => m.community === transcript.community);
  return Boolean(ctx.ui.account) && (me === transcript.scribe
    || Boolean(membership && RUNNING.includes(membership.role)));
}

function render(transcript, first = true) {
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
    if (first) target.scrollIntoView({ block: "center" }); // a reload leaves the reader where they are
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
  if (typeof when === "number") item.append(timeElement(when, formatClock(when)), " ");
  if (line.kind === "erased") { // a tombstone: the words are gone, the place (and #seq-N) stays
    item.append(el("em", "muted", "(erased)"));
    return item;
  }
  sayWhat(item, line);
  if (line.erasable) item.append(" ", eraseButton(line));
  return item;
}

// The words of one line, after its time.
function sayWhat(item, line) {
  const who = line.who ? el("strong", "", line.who) : null;
  if (line.kind === "off_record") {
    const until = line.until ? formatClock(line.until) : "now";
    item.append(el("em", "", `Off the record from ${formatClock(line.ts)} to ${until} by ${line.who}`));
    return;
  }
  if (line.kind === "question") {
    const votes = `${line.votes} vote${line.votes === 1 ? "" : "s"}`;
    item.append(el("span", "transcript-tag", `Question ${line.question}`), " ", who || "",
      el("span", "muted", ` (${votes}, ${line.status}): `), el("span", "transcript-text", line.text));
    return;
  }
  if (["segment", "session", "stage", "answer", "pairs"].includes(line.kind)) {
    item.append(el("em", "", line.text));
    if (who) item.append(el("span", "muted", ` (${line.who})`));
    return;
  }
  const tag = { note: "Note", caption: "Caption", case: "Case", takeaway: "Takeaway", broadcast: "Broadcast" }[line.kind];
  if (tag) item.append(el("span", "transcript-tag", tag), " ");
  if (who) item.append(who, ": ");
  item.append(el("span", "transcript-text", line.text));
}

function eraseButton(line) {
  const erase = el("button", "ghost small line-erase", "Erase");
  erase.type = "button";
  erase.setAttribute("aria-label", `Erase line ${line.seq}`);
  erase.addEventListener("click", () => eraseLine(line));
  return erase;
}
