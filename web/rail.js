// The rail down the left: one badge per community you are in (the one shown marked as
// the current page), + to browse the directory, and you (your profile).

import { $, el, initials } from "./dom.js";

export function renderRail(ui) {
  const list = $("rail-list");
  list.replaceChildren();
  for (const membership of ui.memberships) {
    const item = el("li");
    const link = el("a", "badge", initials(membership.name));
    link.href = `/c/${encodeURIComponent(membership.community)}`;
    link.dataset.internal = "";
    link.title = membership.name;
    link.setAttribute("aria-label", membership.name);
    if (ui.screen === "shell" && membership.community === ui.communityId) {
      link.setAttribute("aria-current", "page");
    }
    item.append(link);
    list.append(item);
  }
  const browse = $("browse-badge");
  browse.dataset.internal = "";
  browse.toggleAttribute("aria-current", ui.screen === "directory");
  const you = $("profile-badge");
  you.dataset.internal = "";
  you.textContent = ui.account ? initials(ui.account.name) : "·";
  you.toggleAttribute("aria-current", ui.screen === "profile");
}
