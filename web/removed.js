// Manage → Removed, for conveners and owners: who was removed, when, by whom and why,
// and Lift. A removal is a ban until it is lifted (a timeout still runs its time). The
// list follows member_removed and removal_lifted events while it shows.

import { get, post } from "./api.js";
import { $, button, el, timeElement, toast } from "./dom.js";
import { can } from "./can.js";
import { FOLDS, kindOf } from "./folds/index.js";

let ui = null;

const path = (suffix) => `/api/communities/${encodeURIComponent(ui.communityId)}/removed${suffix}`;
const nameOf = (member) => {
  const info = ui.community && ui.community.members.get(member);
  return info ? info.name : member;
};

export function init(context) {
  ui = context.ui;
  $("removed-refresh").addEventListener("click", () => load());
  context.gateway.addEventListener("event", (e) => {
    const { stream, body } = e.detail;
    if (kindOf(stream) !== FOLDS.community.KIND || !body) return;
    if (body.type !== "member_removed" && body.type !== "removal_lifted") return;
    if (ui.pane === "manage" && can("lift_removal")) load();
  });
}

export async function load() {
  let removed;
  try {
    removed = await get(path(""));
  } catch (error) {
    toast(error.message);
    return;
  }
  const body = $("removed-list");
  body.replaceChildren();
  $("removed-list-empty").hidden = removed.length > 0;
  for (const person of removed) {
    const row = el("tr");
    row.dataset.member = person.member;
    const when = el("td");
    when.append(timeElement(person.removed_at));
    const who = el("td");
    who.append(el("strong", "", person.name));
    if (person.timed_out_until > Date.now()) {
      const note = el("span", "muted small");
      note.append(document.createTextNode(" (timed out until "), timeElement(person.timed_out_until),
        document.createTextNode(")"));
      who.append(note);
    }
    const by = person.removed_by_name || (person.removed_by ? nameOf(person.removed_by) : "");
    const actions = el("td");
    const lift = button("Lift", "ghost small", async () => {
      lift.disabled = true;
      try {
        await post(path(`/${encodeURIComponent(person.member)}/lift`));
        toast(`${person.name} may join again`);
        load();
      } catch (error) {
        toast(error.message);
        lift.disabled = false;
      }
    });
    lift.setAttribute("aria-label", `Lift the removal of ${person.name}`);
    actions.append(lift);
    row.append(who, when, el("td", "", by), el("td", "removed-reason", person.reason || "—"), actions);
    body.append(row);
  }
}
