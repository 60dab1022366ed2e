// The browser client: who you are (accounts, guests), which community you are in,
// its rooms, a room's chat and who is here. Routes on location.pathname.
// Every piece of user text goes into the page with textContent, never as HTML; the
// one exception is a community's description_html, which the server sanitized.
// This module is the app itself: the state, routing, entering a community
// and redrawing what its stream's fold (folds/community.js) says changed. The rest
// lives in modules of their own: shell.js (a community's header, rooms and panes),
// chat.js (a room), connection.js (status and every way a stay ends), community.js
// (Members), manage.js (Manage), pairings.js (pair-up history and blocks),
// schedule.js and reminders.js (recurring rooms), repertoire.js, pages.js (sign in,
// invites, guests, reset, the directory), profile.js and rail.js (the badges down the left).

import { Gateway } from "./socket.js";
import { RoomView } from "./room.js";
import { FOLDS, foldOf, foldOfKind, kindOf, streamOf } from "./folds/index.js";
import * as liveSession from "./session.js";
import { setSession } from "./can.js";
import { get, setCsrf } from "./api.js";
import { $, initials, setTimeZone, toast } from "./dom.js";
import * as chat from "./chat.js";
import * as typing from "./typing.js";
import * as connection from "./connection.js";
import * as shell from "./shell.js";
import * as pages from "./pages.js";
import * as community from "./community.js";
import * as search from "./search.js";
import * as profile from "./profile.js";
import * as landing from "./landing.js";
import * as repertoire from "./repertoire.js";
import * as transcript from "./transcript.js";
import * as schedule from "./schedule.js";
import * as reminders from "./reminders.js";
import { renderRail as drawRail } from "./rail.js";

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
  pane: "intro", // intro | room | members | pairings | manage | search
  leaving: null, // the community being left, while the request runs
  screen: null, // auth | invite | guest | reset | directory | profile | shell
};
window.practica = { gateway, ui }; // for people poking at it in the console, and for tests

const ctx = {
  ui, gateway, navigate, route, refreshMe, enterCommunity, openCommunity, showScreen, renderRail,
  enterGuest, connectQuietly, resetCommunity, forgetLastCommunity: () => localStorage.removeItem(LAST_COMMUNITY_KEY),
  signedOut: connection.signedOut, notice: connection.notice, showPane: shell.showPane,
  redrawTimes: () => {
    if (ui.view) chat.renderRoom();
    if (ui.pane === "schedule") schedule.load();
  },
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
  setTimeZone(me.account && me.account.timezone); // guests: the browser's zone
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
  const transcriptOf = /^\/s\/([^/]+)\/transcript\/?$/.exec(location.pathname);
  if (transcriptOf) return transcript.show(decodeURIComponent(transcriptOf[1]));
  const repertoireOf = /^\/c\/([^/]+)\/repertoire\/?$/.exec(location.pathname);
  if (repertoireOf) return repertoire.show(decodeURIComponent(repertoireOf[1]));
  if ((token = pathToken("r"))) return repertoire.showArtefact(token);
  if ((token = pathToken("invite"))) return pages.showInvite(token);
  if ((token = pathToken("guest"))) return pages.showGuest(token);
  if ((token = pathToken("reset"))) return pages.showReset(token);
  if ((token = pathToken("s")) && (ui.guest || ui.account)) return liveSession.openDirect(token);
  if (ui.guest) return enterGuest();
  if (!ui.account) return landing.show(pathToken("c")); // what Practica is, and sign in
  const wanted = pathToken("c");
  if (wanted) return openCommunity(wanted);
  const params = new URLSearchParams(location.search);
  if (params.has("profile")) return profile.show();
  if (params.has("browse") || !ui.memberships.length) return pages.showDirectory();
  const last = localStorage.getItem(LAST_COMMUNITY_KEY);
  const target = ui.memberships.find((m) => m.community === last) || ui.memberships[0];
  return navigate(`/c/${encodeURIComponent(target.community)}`, { replace: true });
}

const SCREENS = ["auth", "invite-page", "guest-page", "reset-page", "transcript-page",
  "repertoire-page"];
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

// The room is in the URL's hash: typing another one, or back and forward, switches room.
function followHash() {
  if (ui.screen !== "shell" || !ui.community) return;
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && wanted !== ui.current && ui.rooms.some((r) => r.room === wanted)) chat.enterRoom(wanted);
}
window.addEventListener("hashchange", followHash);

// Links inside the app (rail badges and such) navigate without reloading.
document.addEventListener("click", (e) => {
  const link = e.target.closest && e.target.closest("a[data-internal]");
  if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(link.getAttribute("href"));
});

// The rail (rail.js), drawn from the state here.
function renderRail() {
  drawRail(ui);
}

// --- entering a community ---------------------------------------------------------

async function openCommunity(id) {
  if (ui.communityId === id && !["idle", "signed-out", "removed", "refused"].includes(gateway.state)) {
    showScreen("shell"); // already in it (back from the profile or the directory)
    if (!location.hash && ui.current) {
      history.replaceState(null, "", `#${encodeURIComponent(ui.current)}`); // the URL names the room
    }
    followHash();
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
  setSession(null);
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
  schedule.reset();
  reminders.stop();
  search.reset();
}

// `quiet`: stay on the page shown (the shell is drawn behind it, shown when opened).
function enterCommunity(id, { quiet = false } = {}) {
  gateway.stop("idle");
  resetCommunity();
  connection.notice("");
  ui.communityId = id;
  localStorage.setItem(LAST_COMMUNITY_KEY, id);
  const known = ui.memberships.find((m) => m.community === id);
  $("community-name").textContent = known ? known.name : id;
  $("community-domain").textContent = "";
  $("community-purpose").textContent = "";
  $("community-meta").textContent = "";
  shell.showPane("intro");
  if (!quiet) showScreen("shell");
  gateway.start({ community: id });
}

// A transcript or artefact page opened on its own follows a session: give the tab a socket
// (a member's; a guest's is entered from the shell). False: none to be had.
function connectQuietly(id) {
  if (gateway.state !== "idle") return true;
  if (!ui.account || !ui.memberships.some((m) => m.community === id)) return false;
  enterCommunity(id, { quiet: true });
  return true;
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
  shell.showPane("intro");
  showScreen("shell");
  gateway.start({ community: guest.community });
  try { // a guest has no community stream: the public front page names things
    const page = await get(`/api/communities/${encodeURIComponent(guest.community)}`);
    if (ui.communityId !== guest.community) return;
    ui.page = page;
    ui.rooms = page.rooms.filter((r) => r.room === guest.room);
    shell.renderCommunityHeader({ ...page, description_html: page.description_html });
    shell.renderRoomList();
  } catch {
    // the header stays plain; the room still works
  }
}

// --- the socket ----------------------------------------------------------------------

gateway.addEventListener("servererror", (e) => toast(e.detail.message));

gateway.addEventListener("ready", (e) => {
  const { session } = e.detail;
  const roleChanged = ui.role !== null && ui.role !== session.role;
  ui.session = session;
  setSession(session);
  ui.me = session.member;
  ui.role = session.role;
  $("me-name").textContent = ui.me.name;
  $("me-avatar").textContent = initials(ui.me.name);
  $("me-role").textContent = session.role;
  $("me-role").className = `role-badge role-${session.role}`;
  const membership = ui.memberships.find((m) => m.community === session.community);
  if (membership) membership.role = session.role === "guest" ? membership.role : session.role;
  shell.applyRole();
  liveSession.applyRole();
  if (roleChanged) toast(`Your role is now ${session.role}`);
  if (session.guest_room && ui.current !== session.guest_room) chat.enterRoom(session.guest_room);
});

// --- community and rooms ----------------------------------------------------------------

// What the view does with each folded kind's snapshots and events, keyed like FOLDS
// (folds/index.js); a kind without an entry here is not shown.
const views = {
  [FOLDS.community.KIND]: {
    snapshot: (sync) => showCommunity(sync.snapshot, sync.seq),
    event: (event) => foldCommunityEvent(event),
  },
  [FOLDS.room.KIND]: {
    snapshot: (sync) => {
      if (sync.snapshot.room !== ui.current) return;
      ui.view = new RoomView(sync.snapshot, sync.seq); // a resume too far behind: start over from here
      if (ui.guest) {
        ui.rooms = [{ room: ui.view.room, name: ui.view.name, topic: ui.view.topic }];
        shell.renderRoomList();
      }
      chat.renderRoom();
    },
    event: (event) => chat.roomEvent(event),
  },
};

gateway.addEventListener("snapshot", (e) => {
  const sync = e.detail;
  const view = foldOfKind(sync.snapshot.kind) && views[sync.snapshot.kind];
  if (view) view.snapshot(sync);
});

gateway.addEventListener("gone", (e) => {
  const { stream } = e.detail;
  if (ui.current && stream === streamOf(FOLDS.room.KIND, ui.current)) {
    toast(e.detail.reason || e.detail.message || "You can no longer see this room");
  }
});

gateway.addEventListener("event", (e) => {
  const event = e.detail;
  const view = foldOf(event.stream) && views[kindOf(event.stream)];
  if (view) view.event(event);
});

function showCommunity(snapshot, seq) {
  ui.community = FOLDS.community.fromSnapshot(snapshot, seq);
  ui.rooms = snapshot.rooms;
  shell.renderCommunityHeader(snapshot);
  shell.renderRoomList();
  community.membersChanged();
  community.roomsChanged();
  chat.updateTimeoutBanner();
  if (!ui.current && ui.rooms.length) {
    const wanted = decodeURIComponent(location.hash.slice(1));
    const first = ui.rooms.find((r) => r.room === wanted) || null;
    if (first) chat.enterRoom(first.room);
  }
}

// The community fold (folds/community.js) says what changed; this redraws it.
function foldCommunityEvent(event) {
  const state = ui.community;
  if (!state) return;
  const change = FOLDS.community.apply(state, event);
  if (!change) return;
  if (change.rooms) {
    ui.rooms = [...state.rooms.values()];
    shell.renderRoomList();
    community.roomsChanged();
  }
  if (change.header) shell.renderCommunityHeader(state); // description_html null: kept
  if (change.members) community.membersChanged();
  if (change.timeout) chat.updateTimeoutBanner();
  if (event.body.type === "community_edited") {
    community.communityEdited();
    shell.refreshDescription();
  }
}

// --- start ----------------------------------------------------------------------------------------

connection.init(ctx);
shell.init(ctx);
chat.init(ctx);
liveSession.init(ctx);
typing.init(ctx);
pages.init(ctx);
community.init(ctx);
search.init(ctx);
profile.init(ctx);
transcript.init(ctx);
schedule.init(ctx);
reminders.init(ctx, schedule.viewerZone);
repertoire.init(ctx);

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
