// The frame around a community (#shell): its header and description, the room list,
// which pane shows (About, a room, Members, Pair-ups, Manage) and what your role may see.
// Text goes in with textContent; description_html, sanitized by the server, is the
// one piece of HTML.

import { get } from "./api.js";
import { $, el } from "./dom.js";
import { MANAGING, can, canAny } from "./can.js";
import * as chat from "./chat.js";
import * as community from "./community.js";
import * as pairings from "./pairings.js";
import { startHint } from "./repertoire-list.js";
import * as schedule from "./schedule.js";

let ctx = null;
let ui = null;

export function init(context) {
  ctx = context;
  ui = context.ui;
  $("nav-about").addEventListener("click", () => showPane("intro"));
  $("nav-schedule").addEventListener("click", () => {
    showPane("schedule");
    schedule.show();
  });
  $("nav-members").addEventListener("click", () => {
    showPane("members");
    community.showMembers();
  });
  $("nav-pairings").addEventListener("click", () => {
    showPane("pairings");
    pairings.show();
  });
  $("nav-manage").addEventListener("click", () => {
    showPane("manage");
    community.showManage();
  });
  $("people-toggle").addEventListener("click", () => {
    const open = document.body.classList.toggle("people-open");
    $("people-toggle").setAttribute("aria-expanded", String(open));
  });
}

// --- the header ---------------------------------------------------------------------------

const POLICY_TEXT = {
  open: "Anyone signed in may join",
  approval: "Joining is by request",
  invite: "Joining is by invitation",
};

export function renderCommunityHeader(info) {
  $("community-name").textContent = info.name;
  if (info.community) {
    $("nav-repertoire").href = `/c/${encodeURIComponent(info.community)}/repertoire`;
    startHint(info.community);
  }
  $("community-domain").textContent = info.domain;
  $("community-purpose").textContent = info.purpose;
  const members = ui.community ? ui.community.members.size : info.member_count;
  const parts = [info.domain];
  if (members !== undefined) parts.push(`${members} member${members === 1 ? "" : "s"}`);
  if (info.join_policy) parts.push(POLICY_TEXT[info.join_policy] || info.join_policy);
  $("community-meta").textContent = parts.filter(Boolean).join(" · ");
  if (typeof info.description_html === "string") {
    // The one place HTML goes in: rendered from markdown and sanitized (nh3) by the server.
    $("community-description").innerHTML = info.description_html;
    $("community-description-title").hidden = !info.description_html.trim();
  }
  const membership = ui.memberships.find((m) => m.community === info.community);
  if (membership && membership.name !== info.name) {
    membership.name = info.name;
    ctx.renderRail();
  }
  document.title = `${info.name} · Practica`;
  if (ui.pane === "intro") {
    $("room-name").textContent = info.name;
    $("room-topic").textContent = info.domain;
  }
}

// The stream carries the description's markdown; the rendered HTML comes from the front page.
export async function refreshDescription() {
  const id = ui.communityId;
  try {
    const page = await get(`/api/communities/${encodeURIComponent(id)}`);
    if (id !== ui.communityId || !ui.community) return;
    ui.community.description_html = page.description_html;
    renderCommunityHeader(ui.community);
  } catch {
    // keep the old description
  }
}

// --- rooms and panes ----------------------------------------------------------------------

export function renderRoomList() {
  $("intro-hint").textContent = ui.rooms.length
    ? "Choose a room on the left to join its conversation."
    : can("create_room")
      ? "No rooms yet: create the first one under Manage."
      : "No rooms yet.";
  const list = $("room-list");
  list.replaceChildren();
  for (const room of ui.rooms) {
    const item = el("li");
    const link = el("button", "room-link");
    link.type = "button";
    link.dataset.room = room.room;
    if (room.room === ui.current && ui.pane === "room") link.setAttribute("aria-current", "true");
    link.append(el("span", "hash", "#"), el("span", "room-title", room.name));
    if (room.topic) link.append(el("span", "room-topic", room.topic));
    link.addEventListener("click", () => chat.enterRoom(room.room));
    item.append(link);
    list.append(item);
  }
}

export function showPane(pane) {
  ui.pane = pane;
  $("community-intro").hidden = pane !== "intro";
  const inRoom = pane === "room" && Boolean(ui.view);
  $("messages").hidden = !inRoom;
  $("composer").hidden = !inRoom;
  $("timeout-banner").hidden = !inRoom || !chat.timeoutText();
  $("members-view").hidden = pane !== "members";
  $("pairings-view").hidden = pane !== "pairings";
  $("manage-view").hidden = pane !== "manage";
  $("search-view").hidden = pane !== "search";
  $("schedule-view").hidden = pane !== "schedule";
  $("session-view").hidden = pane !== "session";
  $("session-button").hidden = !(pane === "room" || pane === "session") || !ui.current;
  $("session-button").toggleAttribute("aria-current", pane === "session");
  if (pane !== "session") document.body.classList.remove("off-record");
  for (const id of ["nav-about", "nav-schedule", "nav-members", "nav-pairings", "nav-manage"]) $(id).removeAttribute("aria-current");
  const nav = { intro: "nav-about", schedule: "nav-schedule", members: "nav-members", pairings: "nav-pairings", manage: "nav-manage" }[pane];
  if (nav) $(nav).setAttribute("aria-current", "page");
  if (pane === "room" && ui.view) {
    chat.renderHeader();
  } else {
    const room = ui.rooms.find((r) => r.room === ui.current);
    const titles = { intro: ui.community ? ui.community.name : $("community-name").textContent, members: "Members", schedule: "Schedule", pairings: "Pair-ups", manage: "Manage", search: "Search", session: "Session", room: room ? `# ${room.name}` : "" };
    $("room-name").textContent = titles[pane] || "";
    $("room-topic").textContent = pane === "room" && room ? room.topic
      : pane === "intro" ? $("community-domain").textContent : "";
  }
  renderRoomList();
}

// Show what this session may do (ready.session.actions, from the server).
export function applyRole() {
  const guest = ui.role === "guest";
  const manages = canAny(...MANAGING);
  $("community-nav").hidden = !can("view_community");
  $("nav-manage").hidden = !manages;
  $("guest-leave").hidden = !guest;
  $("leave-box").hidden = !can("leave_community");
  if (ui.pane === "manage" && !manages) showPane(ui.view ? "room" : "intro");
  if (["members", "pairings", "schedule"].includes(ui.pane) && !can("view_community")) {
    showPane(ui.view ? "room" : "intro");
  }
  if (ui.view) {
    for (const message of ui.view.messages.values()) chat.renderMessage(message, false);
  }
  community.roleChanged();
  schedule.roleChanged();
  chat.updateTimeoutBanner();
}
