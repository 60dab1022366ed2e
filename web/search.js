// Search the community's messages (GET /api/communities/{c}/search): a box in the
// sidebar, results in their own pane, each a link to the message in its room. The
// server sends each snippet in parts; matches go in <mark>, all of it as textContent.

import { get } from "./api.js";
import { $, el, formatDateTime, toast } from "./dom.js";
import * as chat from "./chat.js";

let ctx = null;
let ui = null;
let asked = 0;

export function init(context) {
  ctx = context;
  ui = context.ui;
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run($("search-input").value);
  });
  $("search-input").addEventListener("keydown", (e) => {
    if (e.key === "Escape" && $("search-input").value) {
      e.preventDefault();
      $("search-input").value = "";
    } else if (e.key === "ArrowDown" && ui.pane === "search") {
      const first = $("search-results").querySelector("a");
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  // Up and down move between results; up from the first goes back to the box.
  $("search-results").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const links = [...$("search-results").querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    if (at < 0) return;
    e.preventDefault();
    const next = at + (e.key === "ArrowDown" ? 1 : -1);
    if (next < 0) $("search-input").focus();
    else if (next < links.length) links[next].focus();
  });
}

export function reset() {
  $("search-input").value = "";
  $("search-results").replaceChildren();
  $("search-summary").textContent = "";
}

async function run(query) {
  const q = query.trim();
  if (!q || !ui.communityId) return;
  const mine = ++asked;
  ctx.showPane("search");
  $("search-summary").textContent = "Searching…";
  $("search-results").replaceChildren();
  try {
    const path = `/api/communities/${encodeURIComponent(ui.communityId)}/search?q=${encodeURIComponent(q)}&limit=30`;
    const found = await get(path);
    if (mine !== asked) return;
    render(found.hits, q);
  } catch (error) {
    if (mine !== asked) return;
    $("search-summary").textContent = (error && error.message) || "Search failed";
  }
}

function roomName(room) {
  const info = ui.rooms.find((r) => r.room === room);
  return info ? info.name : room;
}

function render(hits, q) {
  const count = hits.length;
  $("search-summary").textContent = count
    ? `${count} message${count === 1 ? "" : "s"} found for “${q}”`
    : `Nothing found for “${q}”`;
  const list = $("search-results");
  list.replaceChildren();
  for (const hit of hits) {
    const item = el("li", "search-hit");
    const link = el("a", "search-link");
    link.href = `#${encodeURIComponent(hit.room)}`;
    link.dataset.room = hit.room;
    link.dataset.message = String(hit.message);
    const where = el("span", "search-where");
    where.append(el("span", "search-room", `# ${roomName(hit.room)}`),
      el("span", "author", hit.author_name));
    const time = el("time", "time", formatDateTime(hit.ts));
    time.dateTime = new Date(hit.ts).toISOString();
    where.append(time);
    const snippet = el("span", "search-snippet");
    for (const part of hit.snippet) {
      snippet.append(part.hit ? el("mark", null, part.text) : document.createTextNode(part.text));
    }
    link.append(where, snippet);
    link.addEventListener("click", (e) => {
      e.preventDefault();
      open(hit.room, hit.message);
    });
    item.append(link);
    list.append(item);
  }
}

async function open(room, message) {
  const shown = await chat.showMessage(room, message);
  if (!shown) toast("That message is no longer there.");
}
