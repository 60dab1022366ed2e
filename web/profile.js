// You: display name, pronouns, time zone and practice; your sessions; your data; deleting
// the account; signing out.

import { api, get, post } from "./api.js";
import { $, button, el, formatDateTime, onSubmit, setTimeZone, showError, toast } from "./dom.js";

let ctx = null;
let ui = null;

export function init(context) {
  ctx = context;
  ui = context.ui;
  onSubmit($("profile-form"), $("profile-error"), saveProfile);
  onSubmit($("delete-form"), $("delete-error"), deleteAccount);
  $("export").addEventListener("click", exportData);
  $("signout").addEventListener("click", signOut);
  fillTimezones();
}

function fillTimezones() {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  const list = $("timezones");
  for (const zone of ["UTC", ...zones.filter((z) => z !== "UTC")]) {
    const option = document.createElement("option");
    option.value = zone;
    list.append(option);
  }
}

export function show() {
  ctx.showScreen("profile");
  document.title = "Profile · Practica";
  const account = ui.account;
  if (!account) return;
  $("profile-login").textContent = `Signed in as ${account.login}`;
  $("profile-name").value = account.name;
  $("profile-pronouns").value = account.pronouns;
  $("profile-timezone").value = account.timezone;
  $("profile-practice").value = account.practice;
  for (const id of ["profile-error", "delete-error", "export-error", "sessions-error"]) showError($(id), "");
  loadSessions();
}

async function saveProfile() {
  const before = ui.account;
  const body = {
    name: $("profile-name").value.trim(),
    pronouns: $("profile-pronouns").value.trim(),
    timezone: $("profile-timezone").value.trim(),
    practice: $("profile-practice").value.trim(),
  };
  if (!body.name) throw new Error("A display name cannot be blank.");
  if (!body.timezone) delete body.timezone;
  const profile = await api("PATCH", "/api/profile", body);
  ui.account = profile;
  if (before && before.timezone !== profile.timezone) {
    setTimeZone(profile.timezone);
    ctx.redrawTimes(); // what is on screen already, too
  }
  ctx.renderRail();
  toast("Profile saved");
  if (before && before.name !== profile.name) {
    // The socket signed in under the old name: reconnect so rooms see the new one.
    ctx.gateway.reconnect();
  }
}

function describeAgent(agent) {
  if (!agent) return "Unknown browser";
  const browser = /Firefox\/[\d.]+/.exec(agent) || /Edg\/[\d.]+/.exec(agent)
    || /(?:Headless)?Chrome\/[\d.]+/.exec(agent) || /Version\/[\d.]+ Safari/.exec(agent);
  const system = /\(([^;)]+)/.exec(agent);
  return [browser && browser[0], system && system[1]].filter(Boolean).join(" on ") || agent.slice(0, 80);
}

async function loadSessions() {
  let sessions;
  try {
    sessions = await get("/api/sessions");
  } catch (error) {
    showError($("sessions-error"), error.message);
    return;
  }
  const list = $("session-list");
  list.replaceChildren();
  for (const session of sessions) {
    const item = el("li", "session-row");
    item.dataset.session = session.id;
    item.classList.toggle("current", session.current);
    const text = el("div", "session-text");
    const title = el("strong", "", describeAgent(session.user_agent));
    text.append(title);
    if (session.current) text.append(el("span", "current-tag", "This browser"));
    text.append(el("span", "muted small session-meta",
      `${session.address} · signed in ${formatDateTime(session.created)} · last seen ${formatDateTime(session.last_seen)}`));
    const revoke = button("Revoke", "ghost small danger", async () => {
      revoke.disabled = true;
      showError($("sessions-error"), "");
      try {
        if (session.current) ctx.gateway.stop("idle");
        await api("DELETE", `/api/sessions/${encodeURIComponent(session.id)}`);
        if (session.current) {
          ctx.signedOut("You signed this browser out.");
          return;
        }
        toast("Session revoked");
        loadSessions();
      } catch (error) {
        showError($("sessions-error"), error.message);
        revoke.disabled = false;
      }
    });
    revoke.setAttribute("aria-label", session.current ? "Revoke this session (signs you out)" : `Revoke session ${session.id}`);
    item.append(text, revoke);
    list.append(item);
  }
}

async function exportData() {
  const control = $("export");
  control.disabled = true;
  showError($("export-error"), "");
  try {
    const data = await get("/api/export");
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = el("a");
    link.href = url;
    link.download = `practica-${data.profile.login}-${new Date().toISOString().slice(0, 10)}.json`;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    showError($("export-error"), error.message);
  } finally {
    control.disabled = false;
  }
}

async function deleteAccount() {
  const password = $("delete-password").value;
  if (!password) throw new Error("Enter your password to confirm.");
  await post("/api/account/delete", { password });
  $("delete-password").value = "";
  ctx.gateway.stop("idle");
  history.replaceState(null, "", "/");
  ctx.signedOut("Your account was deleted.");
}

async function signOut() {
  ctx.gateway.stop("idle");
  try {
    await post("/api/signout");
  } catch (error) {
    toast(error.message);
  }
  history.replaceState(null, "", "/");
  ctx.signedOut("");
}
