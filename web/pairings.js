// Pair-ups, what the streams kept of them: the "Pair-ups" pane (whom I have met, and my
// private "do not pair me with" list) and, in Manage, the community's pairing history for
// conveners and owners. Everything comes from the HTTP API (README, "Pair-ups"); the
// server decides who may see what, this only hides what is not yours to see.

import { api, get } from "./api.js";
import { can } from "./can.js";
import { $, button, el, onSubmit, showError, timeElement, toast } from "./dom.js";

let ui = null;
let historyBefore = null;

const cpath = (suffix) => `/api/communities/${encodeURIComponent(ui.communityId)}${suffix}`;

export function init(context) {
  ui = context.ui;
  onSubmit($("block-form"), $("block-error"), addBlock);
  $("pairings-refresh").addEventListener("click", () => loadHistory(false));
  $("pairings-older").addEventListener("click", () => loadHistory(true));
  $("pairings-member").addEventListener("change", () => loadHistory(false));
}

export function reset() {
  historyBefore = null;
  for (const id of ["met-list", "block-list", "pairings-list"]) $(id).replaceChildren();
  showError($("block-error"), "");
}

// --- the Pair-ups pane ---------------------------------------------------------------------

export async function show() {
  $("blocks-section").hidden = !can("keep_pair_blocks");
  await Promise.all([loadMet(), can("keep_pair_blocks") ? loadBlocks() : null]);
}

async function loadMet() {
  let mine;
  try {
    mine = await get(cpath("/pairings/mine"));
  } catch (error) {
    toast(error.message);
    return;
  }
  const list = $("met-list");
  list.replaceChildren();
  $("met-empty").hidden = mine.met.length > 0;
  for (const person of mine.met) {
    const item = el("li", "met-row");
    item.dataset.member = person.member;
    const head = el("div", "met-head");
    head.append(el("strong", "met-name", person.name),
      el("span", "muted small", ` · ${person.times} time${person.times === 1 ? "" : "s"} · last `),
      timeElement(person.last_ms));
    const where = el("ul", "met-sessions");
    for (const seen of person.sessions) {
      const line = el("li", "muted small", `${seen.title || seen.session}, round ${seen.round}, `);
      line.append(timeElement(seen.ts));
      where.append(line);
    }
    item.append(head, where);
    list.append(item);
  }
}

async function loadBlocks() {
  let mine;
  try {
    mine = await get(cpath("/pair-blocks"));
  } catch (error) {
    toast(error.message);
    return;
  }
  const listed = new Set(mine.blocks.map((b) => b.member));
  const list = $("block-list");
  list.replaceChildren();
  $("block-empty").hidden = mine.blocks.length > 0;
  for (const block of mine.blocks) {
    const item = el("li", "block-row");
    item.dataset.member = block.member;
    const remove = button("Remove", "ghost small", async () => {
      remove.disabled = true;
      try {
        await api("DELETE", cpath(`/pair-blocks/${encodeURIComponent(block.member)}`));
        toast(`${block.name} may be paired with you again`);
      } catch (error) {
        toast(error.message);
      }
      loadBlocks();
    });
    remove.setAttribute("aria-label", `Remove ${block.name} from your list`);
    item.append(el("span", "block-name", block.name), remove);
    list.append(item);
  }
  // Whom you may add: members of the community, not you, not listed already.
  const choose = $("block-member");
  const others = ui.community ? [...ui.community.members.values()] : [];
  const options = others.filter((m) => m.member !== (ui.me && ui.me.id) && !listed.has(m.member))
    .sort((a, b) => a.name.localeCompare(b.name));
  const none = el("option", "", options.length ? "Choose a member" : "Nobody left to add");
  none.value = "";
  choose.replaceChildren(none, ...options.map((m) => {
    const option = el("option", "", m.name);
    option.value = m.member;
    return option;
  }));
  $("block-limit").textContent = `Up to ${mine.limit} people. Nobody on it is told.`;
}

async function addBlock() {
  const choose = $("block-member");
  const member = choose.value;
  if (!member) throw new Error("Choose a member to add.");
  const name = choose.selectedOptions[0].textContent;
  await api("PUT", cpath(`/pair-blocks/${encodeURIComponent(member)}`));
  toast(`You will not be paired with ${name}`);
  await loadBlocks();
}

// --- Manage → Pairing history (view_pairings) ------------------------------------------------

export async function loadHistory(older) {
  const filter = $("pairings-member");
  fillMemberFilter(filter);
  const params = new URLSearchParams({ limit: "50" });
  if (filter.value) params.set("member", filter.value);
  if (older && historyBefore) params.set("before", historyBefore);
  let page;
  try {
    page = await get(cpath(`/pairings?${params}`));
  } catch (error) {
    toast(error.message);
    return;
  }
  const body = $("pairings-list");
  if (!older) body.replaceChildren();
  for (const pairing of page.pairings) {
    const row = el("tr");
    const when = el("td");
    when.append(timeElement(pairing.ts));
    row.append(when, el("td", "", pairing.a_name), el("td", "", pairing.b_name),
      el("td", "", pairing.title || pairing.session), el("td", "", String(pairing.round)));
    body.append(row);
  }
  historyBefore = page.next;
  $("pairings-older").hidden = !page.next;
  $("pairings-empty").hidden = body.children.length > 0;
}

function fillMemberFilter(filter) {
  const chosen = filter.value;
  const everyone = el("option", "", "Everyone");
  everyone.value = "";
  const members = ui.community ? [...ui.community.members.values()] : [];
  members.sort((a, b) => a.name.localeCompare(b.name));
  filter.replaceChildren(everyone, ...members.map((m) => {
    const option = el("option", "", m.name);
    option.value = m.member;
    return option;
  }));
  filter.value = members.some((m) => m.member === chosen) ? chosen : "";
}
