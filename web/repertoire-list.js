// The repertoire page's lists (/c/<community>/repertoire): the artefacts by kind and tag
// (filter chips over GET …/artefacts?kind=&tag=), the collections ("Start here" first,
// above everything, for newcomers) and, for those who curate the repertoire, editing
// collections (new, add, move, remove: each change saves the whole list with PUT) and
// importing a zip made by the export. User text goes in with textContent.

import { api, get, postFile } from "./api.js";
import { $, button, el, onSubmit, select } from "./dom.js";

export const KINDS = {
  faq: "FAQ entry", summary: "Summary", case_story: "Case story",
  failure_reflection: "Reflection on a failure", insight: "Insight", template: "Template",
};
const START = "start-here";
const enc = encodeURIComponent;

let ctx;
let community = null;
let curates = false;
let all = []; // every artefact of the community (unfiltered): tags and the "Add" choices
let filter = { kind: null, tag: null };

export function init(context) {
  ctx = context;
  onSubmit($("collection-new"), $("collection-new-error"), createCollection);
  onSubmit($("repertoire-import"), $("repertoire-import-error"), importZip);
}

export function summaryItem(summary) {
  const item = el("li", "repertoire-item");
  const link = el("a", "", summary.title);
  link.href = `/r/${enc(summary.artefact)}`;
  link.dataset.internal = "";
  const tags = summary.tags.length ? ` · ${summary.tags.map((t) => `#${t}`).join(" ")}` : "";
  item.append(link, el("span", "muted", ` ${KINDS[summary.kind] || summary.kind}${tags}`));
  return item;
}

// On the community's front page: "New here? Start here" when it has that collection.
let hintFor = null;
export async function startHint(which) {
  if (hintFor === which) return;
  hintFor = which;
  $("start-here-hint").hidden = true;
  let start;
  try {
    start = (await get(`/api/communities/${enc(which)}/collections`))
      .find((c) => c.collection === START);
  } catch {
    return; // not readable here (a guest): no hint
  }
  if (hintFor !== which || !start) return;
  $("start-here-link").href = `/c/${enc(which)}/repertoire`;
  const n = start.artefacts.length;
  $("start-here-count").textContent = `${n} thing${n === 1 ? "" : "s"} to read first, in order.`;
  $("start-here-hint").hidden = false;
}

const cpath = (suffix) => `/api/communities/${enc(community)}${suffix}`;

// Show the lists of ``which``; ``curating``: may this person curate its repertoire.
export async function show(which, curating) {
  community = which;
  curates = curating;
  filter = { kind: null, tag: null };
  $("collection-new").hidden = !curates;
  $("repertoire-import").hidden = !curates;
  $("repertoire-import-result").replaceChildren();
  const [artefacts, collections] = await Promise.all([
    get(cpath("/artefacts")), get(cpath("/collections"))]);
  if (community !== which) return;
  all = artefacts;
  renderFilters();
  $("repertoire-list").replaceChildren(...artefacts.map(summaryItem));
  renderCollections(collections);
  $("collection-new-first").replaceChildren(...choices(all).children);
}

function chip(label, pressed, onClick) {
  const b = button(label, "chip", onClick);
  b.setAttribute("aria-pressed", String(pressed));
  return b;
}

function renderFilters() {
  const kinds = [["", "All kinds"], ...Object.entries(KINDS)];
  $("repertoire-kinds").replaceChildren(...kinds.map(([kind, label]) =>
    chip(label, (filter.kind || "") === kind, () => choose({ ...filter, kind: kind || null }))));
  const tags = [...new Set(all.flatMap((a) => a.tags))].sort();
  $("repertoire-tags").replaceChildren(
    chip("All tags", filter.tag === null, () => choose({ ...filter, tag: null })),
    ...tags.map((tag) => chip(`#${tag}`, filter.tag === tag, () => choose({ ...filter, tag }))));
}

async function choose(next) {
  filter = next;
  renderFilters();
  const query = new URLSearchParams();
  if (filter.kind) query.set("kind", filter.kind);
  if (filter.tag) query.set("tag", filter.tag);
  const which = community;
  try {
    const listed = await get(cpath(`/artefacts${String(query) ? `?${query}` : ""}`));
    if (community !== which || filter !== next) return;
    $("repertoire-list").replaceChildren(...listed.map(summaryItem));
    if (!listed.length) $("repertoire-list").append(el("li", "muted", "No artefacts of that kind and tag."));
  } catch (err) {
    failed(err);
  }
}

function failed(err) {
  $("repertoire-error").textContent = err.message;
  $("repertoire-error").hidden = false;
}

function choices(artefacts) {
  return select(artefacts.map((a) => [a.artefact, a.title]));
}

function renderCollections(collections) {
  const start = collections.find((c) => c.collection === START);
  $("repertoire-start").replaceChildren(...(start ? [collectionBox(start, true)] : []));
  $("repertoire-start").hidden = !start;
  $("repertoire-collections").replaceChildren(...collections
    .filter((c) => c !== start).map((c) => collectionBox(c, false)));
  // The heading stays for those who make collections (the form is under it).
  $("repertoire-collections-title").hidden = !curates && collections.every((c) => c === start);
}

async function save(c, ids) {
  hintFor = null; // the front page's hint is read again
  const saved = await api("PUT", cpath(`/collections/${enc(c.collection)}`), {
    title: c.title, description: c.description, artefacts: ids });
  const collections = await get(cpath("/collections"));
  renderCollections(collections);
  return saved;
}

function collectionBox(c, newcomers) {
  const box = el("section", `repertoire-collection${newcomers ? " start-here" : ""}`);
  box.setAttribute("aria-label", c.title);
  box.append(el("h3", "", c.title));
  if (newcomers) box.append(el("p", "lead", "New here? Read these first, in this order."));
  if (c.description) box.append(el("p", "muted", c.description));
  const ids = c.artefacts.map((a) => a.artefact);
  const moved = (from, to) => {
    const next = [...ids];
    next.splice(to, 0, ...next.splice(from, 1));
    return next;
  };
  const act = (ids2) => save(c, ids2).catch(failed);
  const list = el("ol", "repertoire-list");
  list.append(...c.artefacts.map((a, i) => {
    const item = summaryItem(a);
    if (curates) {
      const up = button("Move up", "ghost small", () => act(moved(i, i - 1)));
      up.disabled = i === 0;
      up.setAttribute("aria-label", `Move ${a.title} up`);
      const down = button("Move down", "ghost small", () => act(moved(i, i + 1)));
      down.disabled = i === ids.length - 1;
      down.setAttribute("aria-label", `Move ${a.title} down`);
      const out = button("Remove", "ghost small", () => act(ids.filter((x) => x !== a.artefact)));
      out.setAttribute("aria-label", `Remove ${a.title} from ${c.title}`);
      item.append(" ", up, down, out);
    }
    return item;
  }));
  box.append(list);
  if (curates) {
    const pick = choices(all.filter((a) => !ids.includes(a.artefact)));
    pick.setAttribute("aria-label", `Artefact to add to ${c.title}`);
    const add = button("Add", "ghost small", () => {
      if (pick.value) act([...ids, pick.value]);
    });
    add.disabled = !pick.options.length;
    add.setAttribute("aria-label", `Add to ${c.title}`);
    box.append(el("p", "collection-add"));
    box.lastChild.append(pick, " ", add);
  }
  return box;
}

function slug(title) {
  return title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
}

async function createCollection() {
  const title = $("collection-new-name").value.trim();
  const id = slug(title);
  if (!id) throw new Error("Give the collection a title with a letter or a digit.");
  const first = $("collection-new-first").value;
  if (!first) throw new Error("Make an artefact first: a collection lists artefacts.");
  const known = await get(cpath("/collections"));
  if (known.some((c) => c.collection === id)) {
    throw new Error(`There is a collection "${id}" already: add to it instead.`);
  }
  await save({ collection: id, title, description: $("collection-new-description").value.trim() },
    [first]);
  $("collection-new-name").value = "";
  $("collection-new-description").value = "";
}

async function importZip() {
  const file = $("repertoire-import-file").files[0];
  if (!file) throw new Error("Choose a zip exported by Practica first.");
  let report;
  try {
    report = await postFile(cpath("/repertoire/import"), file, "application/octet-stream");
  } catch (err) {
    throw new Error(`Not imported (${err.code}): ${err.message}`);
  }
  const made = Object.keys(report.artefacts).length;
  const lines = [`Imported ${made} artefact${made === 1 ? "" : "s"} and ${report.collections.length} collection${report.collections.length === 1 ? "" : "s"}.`,
    ...report.skipped.map((s) => `Skipped ${s.path}: ${s.reason}`),
    ...report.excerpts_dropped.map((s) => `Quote dropped from ${s.path}: ${s.reason}`)];
  $("repertoire-import-file").value = "";
  await show(community, curates);
  $("repertoire-import-result").replaceChildren(...lines.map((line) => el("li", "", line)));
}
