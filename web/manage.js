// Manage, for conveners and owners: invite and guest links, join requests, who was
// removed (removed.js), rooms, recurring rooms (series-admin.js), the community's own
// page, the audit log and the pairing history (pairings.js). What shows
// follows schemas/permissions.md (ready's actions, can.js); the server checks again.

import { api, get, post } from "./api.js";
import * as removed from "./removed.js";
import { can } from "./can.js";
import { $, button, copyText, el, onSubmit, showError, timeElement, toast } from "./dom.js";
import * as pairings from "./pairings.js";
import * as reviewSetting from "./review-setting.js";
import * as seriesAdmin from "./series-admin.js";
import { viewerZone } from "./schedule.js";

let ui = null;
let auditBefore = null;
let editFilled = false;

export function init(context) {
  ui = context.ui;
  onSubmit($("invite-form"), $("invite-form-error"), createInvite);
  onSubmit($("guest-link-form"), $("guest-link-error"), createGuestLink);
  $("guest-link-room").addEventListener("change", () => loadGuestSessions());
  onSubmit($("room-form"), $("room-form-error"), createRoom);
  onSubmit($("edit-form"), $("edit-error"), editCommunity);
  $("invite-copy").addEventListener("click", () => copyText($("invite-link").value, $("invite-link")));
  $("guest-link-copy").addEventListener("click", () => copyText($("guest-link").value, $("guest-link")));
  $("requests-refresh").addEventListener("click", () => loadRequests());
  removed.init(context);
  $("audit-refresh").addEventListener("click", () => loadAudit(false));
  $("audit-older").addEventListener("click", () => loadAudit(true));
  seriesAdmin.init(context, viewerZone);
  pairings.init(context);
  reviewSetting.init(context);
}

const cpath = (suffix = "") => `/api/communities/${encodeURIComponent(ui.communityId)}${suffix}`;
const nameOf = (member) => {
  const info = ui.community && ui.community.members.get(member);
  return info ? info.name : member;
};

export function reset() {
  auditBefore = null;
  $("invite-list").replaceChildren();
  $("request-list").replaceChildren();
  $("removed-list").replaceChildren();
  $("audit-list").replaceChildren();
  $("invite-result").hidden = true;
  $("guest-link-result").hidden = true;
  for (const id of ["invite-form-error", "guest-link-error", "room-form-error", "edit-error"]) {
    showError($(id), "");
  }
  editFilled = false;
  seriesAdmin.reset();
  pairings.reset();
}

export function showManage() {
  $("invites-section").hidden = !can("invite_members");
  $("guest-section").hidden = !can("create_guest_link");
  $("links-section").hidden = !can("invite_members");
  $("requests-section").hidden = !can("approve_join");
  $("removed-section").hidden = !can("lift_removal");
  $("room-section").hidden = !can("create_room");
  $("edit-section").hidden = !can("edit_community");
  $("audit-section").hidden = !can("view_audit");
  $("pairings-section").hidden = !can("view_pairings");
  roomsChanged();
  fillEditForm();
  if (can("invite_members")) loadInvites();
  if (can("approve_join")) loadRequests();
  if (can("lift_removal")) removed.load();
  if (can("view_audit")) loadAudit(false);
  seriesAdmin.show();
  if (can("view_pairings")) pairings.loadHistory(false);
  reviewSetting.show();
}

export function roomsChanged() {
  const selectRoom = $("guest-link-room");
  const chosen = selectRoom.value;
  selectRoom.replaceChildren();
  for (const room of ui.rooms) {
    const option = el("option", "", room.name);
    option.value = room.room;
    selectRoom.append(option);
  }
  if (chosen && ui.rooms.some((r) => r.room === chosen)) selectRoom.value = chosen;
  else if (ui.current) selectRoom.value = ui.current;
  loadGuestSessions();
  seriesAdmin.roomsChanged();
}

// A guest link is for the whole room ("None"), or for one of its live sessions that has
// not ended.
async function loadGuestSessions() {
  const room = $("guest-link-room").value;
  const select = $("guest-link-session");
  const chosen = select.value;
  const whole = el("option", "", "None");
  whole.value = "";
  select.replaceChildren(whole);
  if (!room) return;
  let sessions = [];
  try {
    sessions = await get(`/api/rooms/${encodeURIComponent(room)}/sessions`);
  } catch {
    return; // the room's sessions are not listed: a link for the room still works
  }
  if ($("guest-link-room").value !== room) return;
  for (const session of sessions.filter((s) => s.phase !== "ended")) {
    const option = el("option", "", session.title);
    option.value = session.session;
    select.append(option);
  }
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

function fillEditForm(force = false) {
  if (!ui.community || (editFilled && !force)) return;
  $("edit-name").value = ui.community.name;
  $("edit-domain").value = ui.community.domain;
  $("edit-purpose").value = ui.community.purpose;
  $("edit-description").value = ui.community.description || "";
  $("edit-policy").value = ui.community.join_policy;
  editFilled = true;
}

export function communityEdited() {
  if (ui.pane !== "manage") editFilled = false;
}

async function createInvite() {
  const reply = await post(cpath("/invites"), {
    kind: "member", max_uses: Number($("invite-uses").value), expires_in_hours: Number($("invite-hours").value),
  });
  $("invite-link").value = location.origin + reply.path;
  $("invite-result").hidden = false;
  loadInvites();
}

async function createGuestLink() {
  const room = $("guest-link-room").value;
  if (!room) throw new Error("Choose a room for the guest link.");
  const session = $("guest-link-session").value || null;
  const reply = await post(cpath("/invites"), {
    kind: "guest", room, session, max_uses: Number($("guest-link-uses").value),
    expires_in_hours: Number($("guest-link-hours").value),
  });
  $("guest-link").value = location.origin + reply.path;
  $("guest-link-result").hidden = false;
  if (can("invite_members")) loadInvites();
}

async function loadInvites() {
  let invites;
  try {
    invites = await get(cpath("/invites"));
  } catch (error) {
    toast(error.message);
    return;
  }
  const body = $("invite-list");
  body.replaceChildren();
  $("invite-list-empty").hidden = invites.length > 0;
  const now = Date.now();
  for (const invite of invites) {
    const row = el("tr");
    row.dataset.invite = invite.id;
    const room = invite.room ? (ui.rooms.find((r) => r.room === invite.room) || { name: invite.room }).name : "";
    const status = invite.revoked ? "revoked" : invite.expires <= now ? "expired"
      : invite.uses >= invite.max_uses ? "used up" : "active";
    const expires = el("td");
    expires.append(timeElement(invite.expires));
    const where = invite.session ? `${room} · session ${invite.session}` : room;
    row.append(el("td", "", invite.kind === "guest" ? "Guest" : "Member"), el("td", "", where),
      el("td", "", `${invite.uses} / ${invite.max_uses}`), expires, el("td", `status-${status.replace(" ", "-")}`, status));
    const actions = el("td");
    if (status === "active") {
      const revoke = button("Revoke", "ghost small danger", async () => {
        revoke.disabled = true;
        try {
          await api("DELETE", cpath(`/invites/${encodeURIComponent(invite.id)}`));
          toast("Link revoked");
          loadInvites();
        } catch (error) {
          toast(error.message);
          revoke.disabled = false;
        }
      });
      revoke.setAttribute("aria-label", `Revoke ${invite.kind} link ${invite.id}`);
      actions.append(revoke);
    }
    row.append(actions);
    body.append(row);
  }
}

async function loadRequests() {
  let requests;
  try {
    requests = await get(cpath("/requests"));
  } catch (error) {
    toast(error.message);
    return;
  }
  const list = $("request-list");
  list.replaceChildren();
  $("request-list-empty").hidden = requests.length > 0;
  for (const request of requests) {
    const item = el("li", "request-row");
    item.dataset.account = request.account;
    const text = el("div", "request-text");
    text.append(el("strong", "", request.name), el("span", "muted small", " asked "), timeElement(request.created));
    if (request.note) text.append(el("p", "request-note", request.note));
    const decide = (approve) => async (e) => {
      e.currentTarget.disabled = true;
      try {
        await post(cpath(`/requests/${encodeURIComponent(request.account)}/${approve ? "approve" : "decline"}`));
        toast(approve ? `${request.name} is in` : `Declined ${request.name}`);
      } catch (error) {
        toast(error.message);
      }
      loadRequests();
    };
    const actions = el("div", "row-buttons");
    actions.append(button("Approve", "primary small", decide(true)), button("Decline", "ghost small danger", decide(false)));
    item.append(text, actions);
    list.append(item);
  }
}

async function createRoom() {
  const name = $("room-form-name").value.trim();
  if (!name) throw new Error("Give the room a name.");
  await post(cpath("/rooms"), { name, topic: $("room-form-topic").value.trim() });
  $("room-form").reset();
  toast(`Room ${name} created`);
}

async function editCommunity() {
  const body = {
    name: $("edit-name").value.trim(),
    domain: $("edit-domain").value.trim(),
    purpose: $("edit-purpose").value.trim(),
    description: $("edit-description").value,
    join_policy: $("edit-policy").value,
  };
  if (!body.name || !body.domain || !body.purpose) throw new Error("Name, domain and purpose are needed.");
  await api("PATCH", cpath(), body);
  toast("Community updated");
}

async function loadAudit(older) {
  const params = new URLSearchParams({ limit: "50" });
  if (older && auditBefore) params.set("before", String(auditBefore));
  let page;
  try {
    page = await get(cpath(`/audit?${params}`));
  } catch (error) {
    toast(error.message);
    return;
  }
  const body = $("audit-list");
  if (!older) body.replaceChildren();
  for (const entry of page.entries) {
    const row = el("tr", `audit-${entry.outcome}`);
    row.dataset.seq = String(entry.seq);
    const when = el("td");
    when.append(timeElement(entry.ts));
    const who = entry.actor_name || (entry.actor ? nameOf(entry.actor) : "server");
    const target = entry.target_name || (entry.target ? nameOf(entry.target) : "");
    const action = entry.action.replaceAll("_", " ");
    row.append(when, el("td", "", who), el("td", "", action), el("td", "", target),
      el("td", `outcome outcome-${entry.outcome}`, entry.outcome), el("td", "audit-detail", entry.detail));
    body.append(row);
  }
  if (page.entries.length) auditBefore = page.entries[page.entries.length - 1].seq;
  $("audit-older").hidden = !page.has_more;
}
