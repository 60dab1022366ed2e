// The connection's state in the status pill, and every way a stay in a community ends:
// signed out, removed, refused, leaving it, or a guest leaving. The notice banner says
// why. The socket itself is socket.js; where you land afterwards is app.js's route().

import { get, post } from "./api.js";
import { $, showError, toast } from "./dom.js";
import * as pages from "./pages.js";

let ctx = null;
let ui = null;
let gateway = null;
let meCheck = null;

export function init(context) {
  ctx = context;
  ui = context.ui;
  gateway = context.gateway;
  gateway.addEventListener("state", onState);
  $("leave-community").addEventListener("click", leaveCommunity);
  $("notice-dismiss").addEventListener("click", () => notice(""));
  $("guest-leave").addEventListener("click", guestLeave);
}

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline: waiting for the network",
  "signed-out": "Signed out",
  removed: "Removed",
  refused: "Not a member",
  idle: "Offline",
};

function onState(e) {
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
}

export async function signedOut(message) {
  ctx.resetCommunity();
  ui.account = null;
  ui.guest = null;
  ui.memberships = [];
  try {
    await ctx.refreshMe();
  } catch {
    // offline: the sign-in form will say so when used
  }
  if (ui.account || ui.guest) return ctx.route(); // another tab signed in again meanwhile
  pages.showAuth();
  notice(message || "");
}

async function removed(reason) {
  const name = (ui.community && ui.community.name) || ui.communityId || "the community";
  ctx.resetCommunity();
  notice(reason || `You were removed from ${name}.`);
  try {
    await ctx.refreshMe();
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
  ctx.resetCommunity();
  toast(detail.reason || "You are not a member of that community");
  await ctx.refreshMe().catch(() => {});
  if (!ui.account) ctx.route();
  else if (id && !ui.memberships.some((m) => m.community === id)) ctx.openCommunity(id); // its front page
  else pages.showDirectory(); // never try the same refused identify twice
}

async function leaveCommunity() {
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
  ctx.resetCommunity();
  ui.leaving = null;
  ctx.forgetLastCommunity();
  await ctx.refreshMe().catch(() => {});
  toast(`You left ${name}`);
  ctx.navigate("/?browse");
}

async function guestLeave() {
  gateway.stop("idle");
  try {
    await post("/api/signout");
  } catch (error) {
    toast(error.message);
  }
  history.replaceState(null, "", "/");
  signedOut("You left. Thanks for coming.");
}

export function notice(message) {
  $("notice-text").textContent = message;
  $("notice").hidden = !message;
}
