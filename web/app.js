// The browser client: who you are (accounts, guests), which community you are in,
// its rooms, a room's chat and who is here. Routes on location.pathname.
// Every piece of user text goes into the page with textContent, never as HTML; the
// one exception is a community's description_html, which the server sanitized.

import { Gateway } from "./socket.js";
import { RoomView } from "./room.js";
import { get, post, setCsrf } from "./api.js";
import { $, el, formatTime, initials, rank, showError, toast } from "./dom.js";
import * as pages from "./pages.js";
import * as community from "./community.js";
import * as profile from "./profile.js";

const LAST_COMMUNITY_KEY = "practica.community";

const gateway = new Gateway(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
const ui = {
  account: null, // your profile, when signed in with an account
  guest: null, // {member, name, community, room} for a guest session
  memberships: [], // [{community, name, role}]
  communityId: null, // the community the socket entered
  community: null, // its snapshot, folded live: {..., rooms: [], members: Map}
  page: null, // GET /api/communities/{c}: the front page (for guests, the header)
  session: null, // ready.session
  me: null, // {id, name} as the socket knows you
  role: null, // your role in the community now
  rooms: [], current: null, view: null,
  pane: "intro", // intro | room | members | manage
  leaving: null, // the community being left, while the request runs
  screen: null, // auth | invite | guest | reset | directory | profile | shell
};
window.practica = { gateway, ui }; // for people poking at it in the console, and for tests

const ctx = {
  ui, gateway, navigate, route, refreshMe, enterCommunity, showScreen, renderRail, signedOut,
  resetCommunity, notice,
};

// --- who is signed in --------------------------------------------------------------

async function refreshMe() {
  const me = await get("/api/me");
  applyMe(me);
  return me;
}

function applyMe(me) {
  setCsrf(me.csrf);
  ui.account = me.account;
  ui.guest = me.guest;
  ui.memberships = me.memberships || [];
  renderRail();
}
ctx.applyMe = applyMe;

// --- routing -----------------------------------------------------------------------

function navigate(url, { replace = false } = {}) {
  if (url !== location.pathname + location.search + location.hash) {
    history[replace ? "replaceState" : "pushState"](null, "", url);
  }
  route();
}

function pathToken(prefix) {
  const match = new RegExp(`^/${prefix}/([^/]+)/?$`).exec(location.pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

function route() {
  let token;
  if ((token = pathToken("invite"))) return pages.showInvite(token);
  if ((token = pathToken("guest"))) return pages.showGuest(token);
  if ((token = pathToken("reset"))) return pages.showReset(token);
  if (ui.guest) return enterGuest();
  if (!ui.account) return pages.showAuth();
  const wanted = pathToken("c");
  if (wanted) return openCommunity(wanted);
  const params = new URLSearchParams(location.search);
  if (params.has("profile")) return profile.show();
  if (params.has("browse") || !ui.memberships.length) return pages.showDirectory();
  const last = localStorage.getItem(LAST_COMMUNITY_KEY);
  const target = ui.memberships.find((m) => m.community === last) || ui.memberships[0];
  return navigate(`/c/${encodeURIComponent(target.community)}`, { replace: true });
}

const SCREENS = ["auth", "invite-page", "guest-page", "reset-page"];
const APP_VIEWS = { shell: "shell", directory: "directory", profile: "profile-view" };

function showScreen(name) {
  ui.screen = name;
  $("loading").hidden = true;
  const inApp = name in APP_VIEWS;
  for (const id of SCREENS) $(id).hidden = id !== (name === "auth" ? "auth" : `${name}-page`);
  $("app").hidden = !inApp;
  for (const [view, id] of Object.entries(APP_VIEWS)) $(id).hidden = view !== name;
  $("app").classList.toggle("guest", Boolean(ui.guest));
  $("status").hidden = name !== "shell";
  renderRail();
}

window.addEventListener("popstate", () => route());

// Links inside the app (rail badges and such) navigate without reloading.
document.addEventListener("click", (e) => {
  const link = e.target.closest && e.target.closest("a[data-internal]");
  if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(link.getAttribute("href"));
});

// --- the rail: one badge per community, + to browse, you ---------------------------

function renderRail() {
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

// --- entering a community ---------------------------------------------------------

async function openCommunity(id) {
  if (ui.communityId === id && !["idle", "signed-out", "removed", "refused"].includes(gateway.state)) {
    showScreen("shell"); // already in it (back from the profile or the directory)
    return;
  }
  if (ui.memberships.some((m) => m.community === id)) {
    enterCommunity(id);
    return;
  }
  let page;
  try {
    page = await get(`/api/communities/${encodeURIComponent(id)}`);
  } catch (error) {
    pages.showDirectory();
    toast(error.message);
    return;
  }
  if (page.your_role) { // joined elsewhere meanwhile
    await refreshMe().catch(() => {});
    enterCommunity(id);
  } else {
    pages.showFront(page);
  }
}

function resetCommunity() {
  ui.communityId = null;
  ui.community = null;
  ui.page = null;
  ui.session = null;
  ui.role = null;
  ui.rooms = [];
  ui.current = null;
  ui.view = null;
  ui.pane = "intro";
  $("room-list").replaceChildren();
  $("message-list").replaceChildren();
  $("people-list").replaceChildren();
  $("member-list").replaceChildren();
  $("community-description").replaceChildren();
  $("timeout-banner").hidden = true;
  community.reset();
}

function enterCommunity(id) {
  gateway.stop("idle");
  resetCommunity();
  notice("");
  ui.communityId = id;
  localStorage.setItem(LAST_COMMUNITY_KEY, id);
  const known = ui.memberships.find((m) => m.community === id);
  $("community-name").textContent = known ? known.name : id;
  $("community-domain").textContent = "";
  $("community-purpose").textContent = "";
  $("community-meta").textContent = "";
  showPane("intro");
  showScreen("shell");
  gateway.start({ community: id });
}

async function enterGuest() {
  const guest = ui.guest;
  if (ui.communityId === guest.community && !["idle", "signed-out", "removed", "refused"].includes(gateway.state)) {
    showScreen("shell");
    return;
  }
  gateway.stop("idle");
  resetCommunity();
  ui.communityId = guest.community;
  $("community-name").textContent = guest.community;
  if (location.pathname !== `/c/${guest.community}`) {
    history.replaceState(null, "", `/c/${encodeURIComponent(guest.community)}`);
  }
  showPane("intro");
  showScreen("shell");
  gateway.start({ community: guest.community });
  try { // a guest has no community stream: the public front page names things
    const page = await get(`/api/communities/${encodeURIComponent(guest.community)}`);
    if (ui.communityId !== guest.community) return;
    ui.page = page;
    ui.rooms = page.rooms.filter((r) => r.room === guest.room);
    renderCommunityHeader({ ...page, description_html: page.description_html });
    renderRoomList();
  } catch {
    // the header stays plain; the room still works
  }
}

// --- the socket ----------------------------------------------------------------------

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Connected",
  reconnecting: "Reconnecting…",
  "signed-out": "Signed out",
  removed: "Removed",
  refused: "Not a member",
  idle: "Offline",
};

let meCheck = null;

gateway.addEventListener("state", (e) => {
  const { state, reason, code, attempt } = e.detail;
  $("status").dataset.state = state;
  $("status-text").textContent = STATUS_TEXT[state] || state;
  $("composer").classList.toggle("offline", state !== "live");
  if (state === "signed-out") {
    signedOut(reason ? `You were signed out: ${reason}.` : "You were signed out.");
  } else if (state === "removed") {
    if (!ui.leaving) removed(reason);
  } else if (state === "refused") {
    refused(e.detail);
  } else if (state === "reconnecting" && code === 1006 && attempt >= 3 && !meCheck) {
    // The upgrade keeps failing: perhaps the session is gone (it needs the cookie).
    meCheck = get("/api/me").then((me) => {
      if (!me.account && !me.guest && gateway.state === "reconnecting") {
        gateway.stop("signed-out", { reason: "your session has ended" });
      }
    }).catch(() => {}).finally(() => { meCheck = null; });
  }
});

async function signedOut(message) {
  resetCommunity();
  ui.account = null;
  ui.guest = null;
  ui.memberships = [];
  try {
    await refreshMe();
  } catch {
    // offline: the sign-in form will say so when used
  }
  if (ui.account || ui.guest) return route(); // another tab signed in again meanwhile
  pages.showAuth();
  notice(message || "");
}

async function removed(reason) {
  const name = (ui.community && ui.community.name) || ui.communityId || "the community";
  resetCommunity();
  notice(reason || `You were removed from ${name}.`);
  try {
    await refreshMe();
  } catch {
    // shown from the old list
  }
  if (ui.guest) {
    pages.showAuth();
    return;
  }
  history.replaceState(null, "", "/?browse");
  pages.showDirectory();
}

async function refused(detail) {
  const id = ui.communityId;
  resetCommunity();
  toast(detail.reason || "You are not a member of that community");
  await refreshMe().catch(() => {});
  if (!ui.account) route();
  else if (id && !ui.memberships.some((m) => m.community === id)) openCommunity(id); // its front page
  else pages.showDirectory(); // never try the same refused identify twice
}

$("leave-community").addEventListener("click", async () => {
  const id = ui.communityId;
  const name = (ui.community && ui.community.name) || id;
  const control = $("leave-community");
  control.disabled = true;
  showError($("leave-error"), "");
  ui.leaving = id; // the server closes our socket with 4010 "you left": that is expected
  try {
    await post(`/api/communities/${encodeURIComponent(id)}/leave`);
  } catch (error) {
    ui.leaving = null;
    showError($("leave-error"), error.message);
    return;
  } finally {
    control.disabled = false;
  }
  gateway.stop("idle");
  resetCommunity();
  ui.leaving = null;
  localStorage.removeItem(LAST_COMMUNITY_KEY);
  await refreshMe().catch(() => {});
  toast(`You left ${name}`);
  navigate("/?browse");
});

function notice(message) {
  $("notice-text").textContent = message;
  $("notice").hidden = !message;
}
$("notice-dismiss").addEventListener("click", () => notice(""));

gateway.addEventListener("servererror", (e) => toast(e.detail.message));

gateway.addEventListener("ready", (e) => {
  const { session } = e.detail;
  const roleChanged = ui.role !== null && ui.role !== session.role;
  ui.session = session;
  ui.me = session.member;
  ui.role = session.role;
  $("me-name").textContent = ui.me.name;
  $("me-avatar").textContent = initials(ui.me.name);
  $("me-role").textContent = session.role;
  $("me-role").className = `role-badge role-${session.role}`;
  const membership = ui.memberships.find((m) => m.community === session.community);
  if (membership) membership.role = session.role === "guest" ? membership.role : session.role;
  applyRole();
  if (roleChanged) toast(`Your role is now ${session.role}`);
  if (session.guest_room && ui.current !== session.guest_room) enterRoom(session.guest_room);
});

// Show what this role may do (hosts and up moderate; conveners manage; owners edit).
function applyRole() {
  const role = ui.role;
  const guest = role === "guest";
  $("community-nav").hidden = guest;
  $("nav-manage").hidden = rank(role) < rank("host");
  $("guest-leave").hidden = !guest;
  $("leave-box").hidden = guest || !role;
  if (ui.pane === "manage" && rank(role) < rank("host")) showPane(ui.view ? "room" : "intro");
  if (ui.pane === "members" && guest) showPane(ui.view ? "room" : "intro");
  if (ui.view) {
    for (const message of ui.view.messages.values()) renderMessage(message, false);
  }
  community.roleChanged();
  updateTimeoutBanner();
}

// --- community and rooms ----------------------------------------------------------------

gateway.addEventListener("snapshot", (e) => {
  const sync = e.detail;
  if (sync.snapshot.kind === "community") {
    showCommunity(sync.snapshot);
  } else if (sync.snapshot.kind === "room" && sync.snapshot.room === ui.current) {
    ui.view = new RoomView(sync.snapshot); // a resume too far behind: start over from here
    if (ui.guest) {
      ui.rooms = [{ room: ui.view.room, name: ui.view.name, topic: ui.view.topic }];
      renderRoomList();
    }
    renderRoom();
  }
});

function showCommunity(snapshot) {
  ui.community = {
    ...snapshot,
    members: new Map(snapshot.members.map((m) => [m.member, { ...m }])),
  };
  ui.rooms = snapshot.rooms;
  renderCommunityHeader(snapshot);
  renderRoomList();
  community.membersChanged();
  community.roomsChanged();
  updateTimeoutBanner();
  if (!ui.current && ui.rooms.length) {
    const wanted = decodeURIComponent(location.hash.slice(1));
    const first = ui.rooms.find((r) => r.room === wanted) || null;
    if (first) enterRoom(first.room);
  }
}

const POLICY_TEXT = {
  open: "Anyone signed in may join",
  approval: "Joining is by request",
  invite: "Joining is by invitation",
};

function renderCommunityHeader(info) {
  $("community-name").textContent = info.name;
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
    renderRail();
  }
  document.title = `${info.name} · Practica`;
  if (ui.pane === "intro") {
    $("room-name").textContent = info.name;
    $("room-topic").textContent = info.domain;
  }
}

async function refreshDescription() {
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

function foldCommunityEvent(body) {
  const state = ui.community;
  if (!state) return;
  const members = state.members;
  switch (body.type) {
    case "room_created":
      ui.rooms = [...ui.rooms.filter((r) => r.room !== body.room),
        { room: body.room, name: body.name, topic: body.topic || "" }];
      state.rooms = ui.rooms;
      renderRoomList();
      community.roomsChanged();
      break;
    case "member_admitted":
      members.set(body.member, {
        member: body.member, name: body.name, role: body.role, timed_out_until: 0, timeout_reason: "",
      });
      renderCommunityHeader(state);
      community.membersChanged();
      break;
    case "role_changed": {
      const info = members.get(body.member);
      if (info) info.role = body.role;
      community.membersChanged();
      break;
    }
    case "member_removed":
      members.delete(body.member);
      renderCommunityHeader(state);
      community.membersChanged();
      break;
    case "member_timed_out": {
      const info = members.get(body.member);
      if (info) {
        info.timed_out_until = body.until;
        info.timeout_reason = body.reason || "";
      }
      community.membersChanged();
      updateTimeoutBanner();
      break;
    }
    case "member_renamed": {
      const info = members.get(body.member);
      if (info) info.name = body.name;
      community.membersChanged();
      break;
    }
    case "community_edited":
      Object.assign(state, {
        name: body.name, domain: body.domain, purpose: body.purpose,
        description: body.description, join_policy: body.join_policy,
      });
      renderCommunityHeader({ ...state, description_html: undefined });
      community.communityEdited();
      refreshDescription();
      break;
    default:
      break;
  }
}

function renderRoomList() {
  $("intro-hint").textContent = ui.rooms.length
    ? "Choose a room on the left to join its conversation."
    : rank(ui.role) >= rank("convener")
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
    link.addEventListener("click", () => enterRoom(room.room));
    item.append(link);
    list.append(item);
  }
}

function showPane(pane) {
  ui.pane = pane;
  $("community-intro").hidden = pane !== "intro";
  const inRoom = pane === "room" && Boolean(ui.view);
  $("messages").hidden = !inRoom;
  $("composer").hidden = !inRoom;
  $("timeout-banner").hidden = !inRoom || !timeoutText();
  $("members-view").hidden = pane !== "members";
  $("manage-view").hidden = pane !== "manage";
  for (const id of ["nav-about", "nav-members", "nav-manage"]) $(id).removeAttribute("aria-current");
  const nav = { intro: "nav-about", members: "nav-members", manage: "nav-manage" }[pane];
  if (nav) $(nav).setAttribute("aria-current", "page");
  if (pane === "room" && ui.view) {
    renderHeader();
  } else {
    const room = ui.rooms.find((r) => r.room === ui.current);
    const titles = { intro: ui.community ? ui.community.name : $("community-name").textContent, members: "Members", manage: "Manage", room: room ? `# ${room.name}` : "" };
    $("room-name").textContent = titles[pane] || "";
    $("room-topic").textContent = pane === "room" && room ? room.topic
      : pane === "intro" ? $("community-domain").textContent : "";
  }
  renderRoomList();
}
ctx.showPane = showPane;

$("nav-about").addEventListener("click", () => showPane("intro"));
$("nav-members").addEventListener("click", () => {
  showPane("members");
  community.showMembers();
});
$("nav-manage").addEventListener("click", () => {
  showPane("manage");
  community.showManage();
});
$("guest-leave").addEventListener("click", async () => {
  gateway.stop("idle");
  try {
    await post("/api/signout");
  } catch (error) {
    toast(error.message);
  }
  history.replaceState(null, "", "/");
  signedOut("You left. Thanks for coming.");
});

async function enterRoom(room) {
  if (room === ui.current) {
    if (ui.view) showPane("room");
    return;
  }
  const previous = ui.current;
  ui.current = room;
  ui.view = null;
  if (location.hash !== `#${room}`) history.replaceState(null, "", `#${room}`);
  showPane("room");
  if (previous) {
    gateway.unfollow(`room:${previous}`);
    gateway.command("leave", { room: previous }).catch(() => {});
  }
  try {
    const ack = await gateway.command("join", { room });
    if (ui.current !== room) return;
    if (!ui.view) { // the snapshot handler usually drew it already, from ack.sync
      ui.view = new RoomView(ack.sync.snapshot);
      renderRoom();
    }
    $("composer-input").focus();
  } catch (error) {
    if (ui.current === room) {
      ui.current = null;
      showPane("intro");
    }
    if (error && error.code !== "closed") toast(error.message || "Could not join the room");
  }
}

// --- the room ---------------------------------------------------------------------------------

gateway.addEventListener("event", (e) => {
  const event = e.detail;
  if (event.stream.startsWith("community:")) {
    if (event.body) foldCommunityEvent(event.body);
    return;
  }
  if (!ui.view || event.stream !== `room:${ui.view.room}`) return;
  const change = ui.view.apply(event);
  if (!change) return;
  if (change.message) renderMessage(change.message, true);
  if (change.presence) renderPeople();
  if (change.header) renderHeader();
});

function renderRoom() {
  if (ui.pane === "intro" || ui.pane === "room") showPane("room");
  renderHeader();
  $("message-list").replaceChildren();
  const ids = [...ui.view.messages.keys()].sort((a, b) => a - b);
  for (const id of ids) renderMessage(ui.view.messages.get(id), false);
  $("load-older").hidden = !ui.view.hasOlder;
  renderPeople();
  scrollToEnd();
}

function renderHeader() {
  if (ui.pane !== "room") return;
  $("room-name").textContent = `# ${ui.view.name}`;
  $("room-topic").textContent = ui.view.topic;
  $("composer-input").placeholder = `Message #${ui.view.name}`;
  $("composer-label").textContent = `Message #${ui.view.name}`;
}

function renderMessage(message, live) {
  const list = $("message-list");
  const nearEnd = isNearEnd();
  let item = list.querySelector(`li[data-id="${message.id}"]`);
  const fresh = !item;
  if (fresh) {
    item = el("li", "message");
    item.dataset.id = String(message.id);
  }
  const own = ui.me && message.author === ui.me.id;
  item.replaceChildren();
  item.classList.toggle("own", Boolean(own));
  item.classList.toggle("deleted", message.deleted);
  const head = el("div", "message-head");
  head.append(el("span", "avatar small", initials(message.author_name)));
  head.append(el("strong", "author", message.author_name));
  const time = el("time", "time", formatTime(message.ts));
  time.dateTime = new Date(message.ts).toISOString();
  head.append(time);
  if (message.edited_ts && !message.deleted) head.append(el("span", "edited", "(edited)"));
  item.append(head);
  item.append(el("p", "text", message.deleted ? "This message was deleted." : message.text));
  const moderator = rank(ui.role) >= rank("host");
  if (!message.deleted && (own || moderator)) item.append(messageActions(message, own));
  if (fresh) insertInOrder(list, item, message.id);
  if (live && fresh && nearEnd) scrollToEnd();
}

function messageActions(message, own) {
  const actions = el("div", "message-actions");
  if (own) {
    const edit = el("button", "ghost small", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit message");
    edit.addEventListener("click", () => startEdit(message));
    actions.append(edit);
  }
  const remove = el("button", "ghost small danger", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", "Delete message");
  remove.addEventListener("click", async () => {
    try {
      await gateway.command("delete", { room: ui.view.room, message: message.id });
    } catch (error) {
      toast(error.message);
    }
  });
  actions.append(remove);
  return actions;
}

function startEdit(message) {
  const item = $("message-list").querySelector(`li[data-id="${message.id}"]`);
  const form = el("form", "edit-form");
  const input = el("textarea", "edit-input");
  input.value = message.text;
  input.maxLength = 4000;
  input.setAttribute("aria-label", "Edit message text");
  const save = el("button", "primary small", "Save");
  save.type = "submit";
  const cancel = el("button", "ghost small", "Cancel");
  cancel.type = "button";
  cancel.addEventListener("click", () => renderMessage(message, false));
  form.append(input, save, cancel);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await gateway.command("edit", { room: ui.view.room, message: message.id, text: input.value });
      renderMessage(ui.view.messages.get(message.id), false);
    } catch (error) {
      toast(error.message);
    }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") renderMessage(message, false);
  });
  item.querySelector(".text").replaceWith(form);
  item.querySelector(".message-actions")?.remove();
  input.focus();
}

function insertInOrder(list, item, id) {
  const last = list.lastElementChild;
  if (!last || Number(last.dataset.id) < id) {
    list.append(item);
    return;
  }
  for (const other of list.children) {
    if (Number(other.dataset.id) > id) {
      list.insertBefore(item, other);
      return;
    }
  }
  list.append(item);
}

function renderPeople() {
  const list = $("people-list");
  list.replaceChildren();
  const people = [...ui.view.present.values()].sort((a, b) => a.name.localeCompare(b.name));
  $("people-title").textContent = `Here now (${people.length})`;
  for (const person of people) {
    const item = el("li", "person");
    item.append(el("span", "avatar small", initials(person.name)), el("span", "", person.name));
    if (ui.me && person.id === ui.me.id) item.append(el("span", "muted", " (you)"));
    list.append(item);
  }
}

$("load-older").addEventListener("click", async () => {
  const view = ui.view;
  const before = view.oldestId();
  try {
    const page = await gateway.command("history", { room: view.room, before, limit: 30 });
    if (ui.view !== view) return;
    const messages = $("messages");
    const fromBottom = messages.scrollHeight - messages.scrollTop;
    view.addOlder(page.messages, page.has_more);
    for (const message of page.messages) renderMessage(view.messages.get(message.id), false);
    $("load-older").hidden = !view.hasOlder;
    messages.scrollTop = messages.scrollHeight - fromBottom;
  } catch (error) {
    toast(error.message);
  }
});

// --- timeouts ------------------------------------------------------------------------------------

let timeoutTimer = null;

function timeoutText() {
  if (!ui.community || !ui.me) return "";
  const info = ui.community.members.get(ui.me.id);
  if (!info || !(info.timed_out_until > Date.now())) return "";
  const until = new Date(info.timed_out_until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return `You are timed out until ${until}` + (info.timeout_reason ? `: ${info.timeout_reason}` : ".");
}

function updateTimeoutBanner() {
  clearTimeout(timeoutTimer);
  const text = timeoutText();
  const banner = $("timeout-banner");
  banner.textContent = text;
  banner.hidden = !text || ui.pane !== "room" || !ui.view;
  if (text) {
    const info = ui.community.members.get(ui.me.id);
    const wait = Math.min(info.timed_out_until - Date.now() + 500, 2 ** 31 - 1);
    timeoutTimer = setTimeout(updateTimeoutBanner, Math.max(wait, 500));
  }
}

// --- composing ---------------------------------------------------------------------------------

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  sendComposed();
});

$("composer-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    sendComposed();
  }
});

function sendComposed() {
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text || !ui.view) return;
  input.value = "";
  gateway.command("post", { room: ui.view.room, text }).catch((error) => {
    toast(error.message);
    if (!input.value) input.value = text; // keep what they wrote
  });
}

$("people-toggle").addEventListener("click", () => {
  const open = document.body.classList.toggle("people-open");
  $("people-toggle").setAttribute("aria-expanded", String(open));
});

// --- helpers --------------------------------------------------------------------------------------

function isNearEnd() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

// --- start ----------------------------------------------------------------------------------------

pages.init(ctx);
community.init(ctx);
profile.init(ctx);

async function boot() {
  for (let attempt = 0; ; attempt++) {
    try {
      await refreshMe();
      break;
    } catch (error) {
      $("loading").textContent = `${error.message} Retrying…`;
      await new Promise((resolve) => setTimeout(resolve, Math.min(8000, 500 * 2 ** attempt)));
    }
  }
  route();
}

boot();
