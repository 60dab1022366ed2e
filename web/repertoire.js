// The shared repertoire: a community's artefacts and collections with search over
// artefacts and transcripts (/c/<community>/repertoire), one artefact with its quotes
// linking back to the transcript and a form to revise it (/r/<artefact>), and making an
// artefact from the lines selected on a transcript page. User text goes in with
// textContent; an artefact's body_html is the server's sanitized markdown (nh3). Words
// erased in a session an artefact quotes read "(erased)" in its quotes at once, in any
// tab: the page follows each quoted session's stream from the head its quote was read at
// (quote.head), and a words_erased there reads the quotes again.

import { api, get, post } from "./api.js";
import { $, button, el, formatDateTime, onSubmit } from "./dom.js";
import * as lists from "./repertoire-list.js";
import { KINDS } from "./repertoire-list.js";
import { currentTranscript, selectedSeqs } from "./transcript.js";

let ctx;
let shownArtefact = null;


export function init(context) {
  ctx = context;
  lists.init(context);
  onSubmit($("excerpt-form"), $("excerpt-error"), makeFromTranscript);
  onSubmit($("artefact-edit"), $("artefact-edit-error"), revise);
  onSubmit($("repertoire-search"), $("repertoire-error"), search);
  onSubmit($("artefact-comment"), $("artefact-comment-error"), comment);
  onSubmit($("artefact-suggest"), $("artefact-suggest-error"), suggest);
  $("artefact-endorse").addEventListener("click", () => endorse().catch(failed));
  context.gateway.addEventListener("event", (e) => {
    const event = e.detail;
    const a = shownArtefact;
    if (ctx.ui.screen !== "repertoire" || $("artefact-view").hidden || !a) return;
    if (!event.body || event.body.type !== "words_erased") return;
    if (a.excerpts.some((x) => x.stream === event.stream)) refreshQuotes(a.artefact).catch(failed);
  });
  // A new socket (a reconnect) does not resume what was followed: read again, follow anew.
  context.gateway.addEventListener("ready", () => {
    const a = shownArtefact;
    if (ctx.ui.screen !== "repertoire" || $("artefact-view").hidden || !a) return;
    if (a.excerpts.some((x) => !ctx.gateway.lastSeq.has(x.stream))) {
      refreshQuotes(a.artefact).catch(failed);
    }
  });
}

// Follow the quoted sessions from the heads the quotes were read at (those this tab
// follows already are skipped by followStreams); a quote without a head is of a session
// the reader may not follow. A tab with no socket yet (the page opened on its own)
// connects; once it is ready the quotes are read again and followed.
function followQuoted(quotes) {
  const streams = {};
  for (const q of quotes) if (Number.isInteger(q.head)) streams[q.stream] = q.head;
  if (!Object.keys(streams).length || !shownArtefact) return;
  const gateway = ctx.gateway;
  if (gateway.state === "idle") ctx.connectQuietly(shownArtefact.community);
  if (gateway.state !== "live") return; // the ready listener reads and follows
  gateway.followStreams(streams).catch(() => {
    // not followed: the quotes stay as read until the page is read again
  });
}

// The quotes only, read again: a revision being written in the form is left alone.
async function refreshQuotes(id) {
  const page = await get(`/api/artefacts/${enc(id)}`);
  if (shownArtefact && shownArtefact.artefact === id) renderQuotes(page.quotes);
}

function renderQuotes(quotes) {
  followQuoted(quotes);
  $("artefact-quotes").replaceChildren(...quotes.map((q) => {
    const quote = el("blockquote", "artefact-quote");
    for (const line of q.lines) {
      quote.append(el("p", line.erased ? "muted erased" : "",
        line.erased ? "(erased)" : `${line.who ? `${line.who}: ` : ""}${line.text}`));
    }
    const back = el("a", "", "Read it in the transcript");
    back.href = q.link;
    back.dataset.internal = "";
    quote.append(back);
    return quote;
  }));
}

const mine = () => ctx.ui.account && ctx.ui.account.id;

async function endorse() {
  const a = shownArtefact;
  const on = !a.endorsements.some((p) => p.member === mine());
  const path = `/api/artefacts/${enc(a.artefact)}/endorsement`;
  renderArtefact(await (on ? api("PUT", path) : api("DELETE", path)));
}

async function comment() {
  const text = $("artefact-comment-text").value.trim();
  if (!text) throw new Error("Write a comment first.");
  const page = await post(`/api/artefacts/${enc(shownArtefact.artefact)}/comments`, { text });
  $("artefact-comment-text").value = "";
  renderArtefact(page);
}

async function suggest() {
  const a = shownArtefact;
  const page = await post(`/api/artefacts/${enc(a.artefact)}/suggestions`, {
    title: $("artefact-suggest-name").value.trim(), body: $("artefact-suggest-body").value,
    tags: a.tags, reason: $("artefact-suggest-reason").value.trim(),
    credit: $("artefact-suggest-credit").checked,
  });
  $("artefact-suggest-reason").value = "";
  renderArtefact(page);
}

async function decide(a, number, verdict, reason) {
  renderArtefact(await post(`/api/artefacts/${enc(a.artefact)}/suggestions/${number}/${verdict}`,
    { reason }));
}

function suggestionItem(a, s, decides) {
  const item = el("li");
  item.append(el("strong", "", s.by.name), ` suggests "${s.title}": ${s.reason} (${s.status}${s.decision ? `: ${s.decision}` : ""})`);
  if (decides && s.status === "open") {
    const reason = el("input");
    reason.setAttribute("aria-label", `Reason for suggestion ${s.suggestion}`);
    reason.maxLength = 2000;
    item.append(" ", reason,
      button("Accept", "ghost small", () => decide(a, s.suggestion, "accept", reason.value).catch(failed)),
      button("Decline", "ghost small", () => decide(a, s.suggestion, "decline", reason.value).catch(failed)));
  }
  return item;
}

async function showDiff(a, revision) {
  const d = await get(`/api/artefacts/${enc(a.artefact)}/diff?from=${revision - 1}&to=${revision}`);
  $("artefact-diff").textContent = d.diff;
  $("artefact-diff").hidden = false;
}

async function history(a) {
  const { revisions } = await get(`/api/artefacts/${enc(a.artefact)}/revisions`);
  if (shownArtefact !== a) return;
  $("artefact-history").replaceChildren(...revisions.map((r) => {
    const item = el("li", "", `Revision ${r.revision} by ${r.by.name}, ${formatDateTime(r.ts)}${r.note ? `: ${r.note}` : ""} `);
    if (r.revision > 1) {
      item.append(button("Show changes", "ghost small", () => showDiff(a, r.revision).catch(failed)));
    }
    return item;
  }));
}

const enc = encodeURIComponent;

async function makeFromTranscript() {
  const transcript = currentTranscript();
  const seqs = selectedSeqs();
  if (!transcript || !seqs.length) throw new Error("Select the lines to quote first.");
  const title = $("excerpt-name").value.trim();
  if (!title) throw new Error("Give the artefact a title.");
  const draft = {
    kind: $("excerpt-kind").value, title, body: $("excerpt-body").value,
    tags: $("excerpt-tags").value.toLowerCase().split(/[\s,]+/).filter(Boolean),
    excerpts: [{ session: transcript.session, from_seq: seqs[0], to_seq: seqs[seqs.length - 1] }],
    confirm: confirmedKeys(),
  };
  // The confidential-details guard: what it finds is shown before anything is published.
  const report = await post(`/api/communities/${enc(transcript.community)}/repertoire/scan`, draft);
  const unseen = report.findings.filter((f) => !shownKeys.has(f.finding.key));
  showFindings(report.findings);
  if (unseen.length) {
    throw new Error(`Found ${unseen.length} possibly identifying detail${unseen.length === 1 ? "" : "s"}: edit them out or confirm them below, then make the artefact.`);
  }
  const made = await post(`/api/communities/${enc(transcript.community)}/artefacts`, draft);
  for (const id of ["excerpt-name", "excerpt-body", "excerpt-tags"]) $(id).value = "";
  showFindings([]);
  ctx.navigate(`/r/${enc(made.artefact.artefact)}`);
}

const shownKeys = new Set();
const WHERE = { title: "in the title", body: "in the text", quote: "in a quoted line" };

function confirmedKeys() {
  return [...document.querySelectorAll("#excerpt-findings-list input:checked")].map((b) => b.value);
}

function showFindings(findings) {
  const confirmed = new Set(confirmedKeys());
  const list = $("excerpt-findings-list");
  list.replaceChildren(...findings.map((f) => {
    shownKeys.add(f.finding.key);
    const item = el("li");
    const box = el("input");
    box.type = "checkbox";
    box.value = f.finding.key;
    box.checked = confirmed.has(f.finding.key);
    const label = el("label");
    label.append(box, ` Fine to publish: ${f.finding.text} (${f.finding.kind.replaceAll("_", " ")}, ${WHERE[f.where] || f.where})`);
    item.append(label);
    return item;
  }));
  if (!findings.length) shownKeys.clear();
  $("excerpt-findings").hidden = !findings.length;
}

function screen(title) {
  ctx.showScreen("repertoire");
  $("repertoire-title").textContent = title;
  document.title = `${title} · Practica`;
  $("repertoire-error").hidden = true;
}

function failed(err) {
  $("repertoire-error").textContent = err.status === 401
    ? "Sign in to read the repertoire." : err.message;
  $("repertoire-error").hidden = false;
}

function links(community) {
  $("repertoire-home").href = `/c/${enc(community)}/repertoire`;
  $("repertoire-export").href = `/api/communities/${enc(community)}/repertoire/export`;
  $("repertoire-community").href = `/c/${enc(community)}`;
}

let community = null;

export async function show(which) {
  community = which;
  screen("Repertoire");
  links(which);
  $("repertoire-list-view").hidden = false;
  $("artefact-view").hidden = true;
  $("repertoire-hits").replaceChildren();
  try {
    await lists.show(which, curating(which));
  } catch (err) {
    failed(err);
  }
}

function curating(which) {
  const membership = ctx.ui.memberships.find((m) => m.community === which);
  return Boolean(membership && ["convener", "owner"].includes(membership.role));
}

async function search() {
  const q = $("repertoire-q").value.trim();
  if (!q) throw new Error("Type a word to search for.");
  const found = await get(`/api/communities/${enc(community)}/repertoire/search?q=${enc(q)}`);
  const hits = $("repertoire-hits");
  hits.replaceChildren(...found.hits.map((hit) => {
    const item = el("li", `repertoire-hit what-${hit.what}`);
    const link = el("a", "", hit.title || `${hit.who || "Someone"} (${hit.kind})`);
    link.href = hit.link;
    link.dataset.internal = "";
    const snippet = el("span", "muted");
    for (const part of hit.snippet) snippet.append(part.hit ? el("mark", "", part.text) : part.text);
    item.append(link, " ", snippet);
    return item;
  }));
  if (!found.hits.length) hits.append(el("li", "muted", "Nothing found."));
}

export async function showArtefact(id) {
  screen("Artefact");
  $("repertoire-list-view").hidden = true;
  $("artefact-view").hidden = false;
  $("artefact-edit").hidden = true;
  let page;
  try {
    page = await get(`/api/artefacts/${enc(id)}`);
  } catch (err) {
    failed(err);
    return;
  }
  renderArtefact(page);
}

function renderArtefact(page) {
  const a = page.artefact;
  shownArtefact = a;
  community = a.community;
  links(a.community);
  $("repertoire-title").textContent = a.title;
  document.title = `${a.title} · Practica`;
  const authors = a.authors.map((p) => p.name).join(", ");
  const more = a.contributors.length ? `, with ${a.contributors.map((p) => p.name).join(", ")}` : "";
  $("artefact-meta").textContent = `${KINDS[a.kind] || a.kind} · by ${authors}${more} · revision ${a.revision}, ${formatDateTime(a.updated_ms)}`;
  $("artefact-body").innerHTML = a.body_html; // sanitized by the server (nh3)
  renderQuotes(page.quotes);
  const me = ctx.ui.account && ctx.ui.account.id;
  const curates = curating(a.community);
  $("artefact-edit").hidden = !(curates || a.authors.some((p) => p.member === me));
  const helped = a.endorsements.some((p) => p.member === me);
  $("artefact-endorse").setAttribute("aria-pressed", String(helped));
  $("artefact-endorse").textContent = helped ? "This helped me ✓" : "This helped me";
  $("artefact-endorsements").textContent = a.endorsements.length
    ? `Helped ${a.endorsements.map((p) => p.name).join(", ")}` : "";
  $("artefact-comments").replaceChildren(...a.comments.map((c) => {
    const item = el("li");
    item.append(el("strong", "", c.by.name), `: ${c.text}`);
    return item;
  }));
  $("artefact-diff").hidden = true;
  const decides = curates || a.authors.some((p) => p.member === me);
  $("artefact-suggestions").replaceChildren(...a.suggestions.map((s) => suggestionItem(a, s, decides)));
  $("artefact-suggest").hidden = decides;
  $("artefact-suggest-name").value = a.title;
  $("artefact-suggest-body").value = a.body;
  history(a).catch(failed);
  $("artefact-edit-name").value = a.title;
  $("artefact-edit-body").value = a.body;
  $("artefact-edit-note").value = "";
}

async function revise() {
  const a = shownArtefact;
  const page = await post(`/api/artefacts/${enc(a.artefact)}/revisions`, {
    kind: a.kind, title: $("artefact-edit-name").value.trim(), body: $("artefact-edit-body").value,
    tags: a.tags, note: $("artefact-edit-note").value, base_revision: a.revision,
  });
  renderArtefact(page);
}
