// The pages around the chat: signing in and up, invite and guest links, password
// resets, the directory of communities, a community's front page, and creating one.

import { api, get, post, setCsrf } from "./api.js";
import { $, button, el, formatDateTime, onSubmit, showError, toast } from "./dom.js";

let ctx = null;
let ui = null;
let inviteToken = null;
let invitePreview = null;
let guestToken = null;
let guestPreview = null;
let resetToken = null;
let frontPage = null;
let pollTimer = null;
const requested = new Set(); // communities you asked to join, this visit

const POLICY = {
  open: "Anyone signed in may join",
  approval: "Joining is by request",
  invite: "By invitation only",
};

export function init(context) {
  ctx = context;
  ui = context.ui;
  onSubmit($("signin-form"), $("signin-error"), signIn);
  onSubmit($("signup-form"), $("signup-error"), signUp);
  $("invite-accept").addEventListener("click", acceptInvite);
  $("invite-skip").addEventListener("click", () => ctx.navigate("/", { replace: true }));
  onSubmit($("guest-form"), $("guest-error"), enterAsGuest);
  onSubmit($("reset-form"), $("reset-error"), setPassword);
  onSubmit($("create-form"), $("create-error"), createCommunity);
  $("front-join").addEventListener("click", () => joinFromFront());
  $("front-back").addEventListener("click", () => ctx.navigate("/?browse"));
}

// --- signing in and up ---------------------------------------------------------------

export function showAuth(context = "") {
  ctx.showScreen("auth");
  for (const id of ["landing-hero", "public-front", "public-communities"]) $(id).hidden = true;
  $("auth-context-text").textContent = context;
  $("auth-context").hidden = !context;
  document.title = "Sign in · Practica";
  if (!$("signin-login").value) $("signin-login").focus();
}

async function signIn() {
  const login = $("signin-login").value.trim();
  const password = $("signin-password").value;
  if (!login || !password) throw new Error("Enter your login and password.");
  const me = await post("/api/signin", { login, password });
  $("signin-password").value = "";
  signedIn(me);
}

async function signUp() {
  const login = $("signup-login").value.trim();
  const password = $("signup-password").value;
  const name = $("signup-name").value.trim();
  if (login.length < 3) throw new Error("Choose a login of at least 3 characters.");
  if (password.length < 10) throw new Error("Choose a password of at least 10 characters.");
  if (!name) throw new Error("Choose the display name others will see.");
  let me = await post("/api/signup", { login, password, name });
  $("signup-password").value = "";
  // A new account starts in the time zone of the browser it was made in (Profile changes it).
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && me.account && zone !== me.account.timezone) {
    setCsrf(me.csrf); // the new session's token
    try {
      me = { ...me, account: await api("PATCH", "/api/profile", { timezone: zone }) };
    } catch {
      // the server does not know this zone: keep its default
    }
  }
  signedIn(me);
}

function signedIn(me) {
  ctx.applyMe(me);
  ctx.notice("");
  for (const form of ["signin-form", "signup-form"]) $(form).reset();
  ctx.route(); // on to where they were going: /c/<id>, an invite, or their community
}

// --- /invite/<token> -------------------------------------------------------------------

export async function showInvite(token) {
  inviteToken = token;
  invitePreview = null;
  showError($("invite-error"), "");
  let preview;
  try {
    preview = await get(`/api/invites/${encodeURIComponent(token)}`);
  } catch (error) {
    ctx.showScreen("invite");
    $("invite-title").textContent = "This invite link does not work";
    for (const id of ["invite-domain", "invite-purpose", "invite-expires"]) $(id).textContent = "";
    showError($("invite-error"), error.message);
    $("invite-accept").hidden = true;
    $("invite-skip").textContent = ui.account ? "Go to my communities" : "Sign in";
    return;
  }
  if (inviteToken !== token) return;
  if (preview.kind === "guest") {
    ctx.navigate(`/guest/${encodeURIComponent(token)}`, { replace: true });
    return;
  }
  invitePreview = preview;
  if (!ui.account) {
    showAuth(`You are invited to join ${preview.community_name} (${preview.domain}). `
      + "Sign in or create an account to accept the invitation.");
    return;
  }
  ctx.showScreen("invite");
  document.title = `Invitation: ${preview.community_name} · Practica`;
  $("invite-title").textContent = preview.community_name;
  $("invite-domain").textContent = preview.domain;
  $("invite-purpose").textContent = preview.purpose;
  $("invite-expires").textContent = `This link is valid until ${formatDateTime(preview.expires)}.`;
  const member = ui.memberships.some((m) => m.community === preview.community);
  $("invite-accept").hidden = false;
  $("invite-accept").textContent = member ? "Open community" : "Accept invite";
  $("invite-skip").textContent = "Not now";
}

async function acceptInvite() {
  const preview = invitePreview;
  if (!preview) return;
  const accept = $("invite-accept");
  accept.disabled = true;
  showError($("invite-error"), "");
  try {
    if (!ui.memberships.some((m) => m.community === preview.community)) {
      await post(`/api/invites/${encodeURIComponent(inviteToken)}/accept`);
      await ctx.refreshMe();
      toast(`Welcome to ${preview.community_name}`);
    }
    ctx.navigate(`/c/${encodeURIComponent(preview.community)}`, { replace: true });
  } catch (error) {
    showError($("invite-error"), error.message);
  } finally {
    accept.disabled = false;
  }
}

// --- /guest/<token> --------------------------------------------------------------------

export async function showGuest(token) {
  guestToken = token;
  guestPreview = null;
  ctx.showScreen("guest");
  showError($("guest-error"), "");
  $("guest-title").textContent = "…";
  for (const id of ["guest-community", "guest-purpose"]) $(id).textContent = "";
  let preview;
  try {
    preview = await get(`/api/invites/${encodeURIComponent(token)}`);
  } catch (error) {
    $("guest-title").textContent = "This guest link does not work";
    $("guest-fields").hidden = true;
    $("guest-submit").hidden = true;
    showError($("guest-error"), error.message);
    return;
  }
  if (guestToken !== token) return;
  if (preview.kind !== "guest") {
    ctx.navigate(`/invite/${encodeURIComponent(token)}`, { replace: true });
    return;
  }
  guestPreview = preview;
  document.title = `Guest: ${preview.room_name || preview.community_name} · Practica`;
  $("guest-title").textContent = preview.session
    ? `A live session in # ${preview.room_name || preview.room}` : `# ${preview.room_name || preview.room}`;
  $("guest-scope").textContent = preview.session
    ? "A guest attends this one session under a display name, without an account: watch, ask and upvote, take part in pairs."
    : "A guest joins this one room under a display name, without an account.";
  $("guest-community").textContent = `${preview.community_name}: ${preview.domain}`;
  $("guest-purpose").textContent = preview.purpose;
  $("guest-fields").hidden = false;
  $("guest-submit").hidden = false;
  $("guest-warning").textContent = ui.account
    ? `You are signed in as ${ui.account.name}: joining as a guest signs you out in this browser.`
    : "";
  $("guest-warning").hidden = !ui.account;
  if (ui.guest && ui.guest.community === preview.community && ui.guest.room === preview.room) {
    $("guest-name").value = ui.guest.name;
  }
  $("guest-name").focus();
}

async function enterAsGuest() {
  const preview = guestPreview;
  if (!preview) return;
  const name = $("guest-name").value.trim();
  if (!name) throw new Error("Choose the display name others in the room will see.");
  const me = await post("/api/guest", { token: guestToken, name });
  ctx.applyMe(me);
  ctx.notice("");
  // A session's guest goes straight to the session (its view is at /s/<session>).
  ctx.navigate(me.guest.session ? `/s/${encodeURIComponent(me.guest.session)}`
    : `/c/${encodeURIComponent(me.guest.community)}`, { replace: true });
}

// --- /reset/<token> ----------------------------------------------------------------------

export function showReset(token) {
  resetToken = token;
  ctx.showScreen("reset");
  document.title = "New password · Practica";
  showError($("reset-error"), "");
  $("reset-password").focus();
}

async function setPassword() {
  const password = $("reset-password").value;
  if (password.length < 10) throw new Error("Choose a password of at least 10 characters.");
  await post(`/api/password-resets/${encodeURIComponent(resetToken)}`, { password });
  $("reset-password").value = "";
  history.replaceState(null, "", "/");
  ctx.gateway.stop("idle");
  ctx.resetCommunity();
  try {
    await ctx.refreshMe(); // the reset signed that account out everywhere
  } catch {
    // the sign-in form works regardless
  }
  if (ui.account) ctx.route();
  else showAuth("Your password is set. Sign in with your new password.");
}

// --- the directory -----------------------------------------------------------------------

export async function showDirectory() {
  ctx.showScreen("directory");
  document.title = "Communities · Practica";
  frontPage = null;
  $("front").hidden = true;
  $("directory").classList.remove("front-only");
  await renderDirectory();
  keepPolling();
}

async function renderDirectory() {
  let cards;
  try {
    cards = await get("/api/communities");
  } catch (error) {
    toast(error.message);
    return;
  }
  const list = $("directory-list");
  list.replaceChildren();
  $("directory-empty").hidden = cards.length > 0;
  for (const card of cards) list.append(directoryCard(card));
}

function directoryCard(card) {
  const item = el("li", "card directory-card");
  item.dataset.community = card.community;
  item.append(el("h2", "", card.name), el("p", "", card.domain), el("p", "muted", card.purpose));
  const count = `${card.member_count} member${card.member_count === 1 ? "" : "s"}`;
  item.append(el("p", "muted small", `${count} · ${POLICY[card.join_policy] || card.join_policy}`));
  const actions = el("div", "row-buttons");
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const membership = ui.memberships.find((m) => m.community === card.community);
  const open = `/c/${encodeURIComponent(card.community)}`;
  if (membership) {
    actions.append(button("Open", "primary", () => ctx.navigate(open)));
  } else if (card.join_policy === "open") {
    actions.append(button("Join", "primary", (e) => join(card, e.currentTarget, error)));
  } else if (card.join_policy === "approval") {
    if (requested.has(card.community)) actions.append(el("span", "muted", "Request sent"));
    else actions.append(button("Request to join", "primary", (e) => join(card, e.currentTarget, error)));
  } else {
    actions.append(el("span", "muted", "By invitation only"));
  }
  actions.append(button("Front page", "ghost", () => ctx.navigate(open)));
  item.append(actions, error);
  return item;
}

async function join(card, control, errorBox, note = "") {
  control.disabled = true;
  showError(errorBox, "");
  try {
    const reply = await post(`/api/communities/${encodeURIComponent(card.community)}/join`, { note });
    if (reply.outcome === "requested") {
      requested.add(card.community);
      toast(`Request sent to ${card.name}`);
      keepPolling();
      return reply;
    }
    await ctx.refreshMe();
    ctx.navigate(`/c/${encodeURIComponent(card.community)}`);
    return reply;
  } catch (error) {
    showError(errorBox, error.message);
    return null;
  } finally {
    control.disabled = false;
    if (ui.screen === "directory" && !frontPage) renderDirectory();
  }
}

// While a request is waiting, look every few seconds whether it was approved.
function keepPolling() {
  if (pollTimer || requested.size === 0) return;
  pollTimer = setInterval(async () => {
    if (requested.size === 0 || ui.screen !== "directory" || !ui.account) {
      clearInterval(pollTimer);
      pollTimer = null;
      return;
    }
    try {
      await ctx.refreshMe();
    } catch {
      return;
    }
    for (const id of [...requested]) {
      const membership = ui.memberships.find((m) => m.community === id);
      if (!membership) continue;
      requested.delete(id);
      toast(`You were admitted to ${membership.name}`);
      if (frontPage && frontPage.community === id) {
        ctx.navigate(`/c/${encodeURIComponent(id)}`);
        return;
      }
      if (!frontPage) renderDirectory();
    }
  }, 2000);
}

// --- a community's front page, for those not (yet) in it -----------------------------------

export function showFront(page) {
  frontPage = page;
  ctx.showScreen("directory");
  document.title = `${page.name} · Practica`;
  $("directory").classList.add("front-only");
  $("front").hidden = false;
  $("front-name").textContent = page.name;
  $("front-domain").textContent = page.domain;
  $("front-purpose").textContent = page.purpose;
  // Sanitized by the server (markdown → nh3); the one place HTML goes in.
  $("front-description").innerHTML = page.description_html;
  const count = `${page.member_count} member${page.member_count === 1 ? "" : "s"}`;
  $("front-meta").textContent = `${count} · ${POLICY[page.join_policy] || page.join_policy}`;
  showError($("front-error"), "");
  if (page.request_pending) requested.add(page.community);
  renderFrontActions();
  keepPolling();
}

function renderFrontActions() {
  const page = frontPage;
  const join = $("front-join");
  const pending = requested.has(page.community);
  join.hidden = page.join_policy === "invite" || pending;
  join.textContent = page.join_policy === "approval" ? "Request to join" : "Join";
  $("front-note-field").hidden = page.join_policy !== "approval" || pending;
  $("front-status").textContent = pending
    ? "Your request is waiting for a convener. This page opens the community once you are admitted."
    : page.join_policy === "invite"
      ? "This community admits members by invitation only: ask a member for an invite link."
      : "";
}

async function joinFromFront() {
  const page = frontPage;
  if (!page) return;
  const reply = await join(page, $("front-join"), $("front-error"), $("front-note").value.trim());
  if (reply && reply.outcome === "requested" && frontPage === page) {
    $("front-note").value = "";
    renderFrontActions();
  }
}

// --- creating a community ------------------------------------------------------------------

async function createCommunity() {
  const body = {
    community: $("create-id").value.trim().toLowerCase(),
    name: $("create-name").value.trim(),
    domain: $("create-domain").value.trim(),
    purpose: $("create-purpose").value.trim(),
    description: $("create-description").value,
    join_policy: $("create-policy").value,
  };
  if (!/^[a-z0-9][a-z0-9-]*$/.test(body.community)) {
    throw new Error("Community id: lower-case letters, digits and dashes, e.g. wound-care-network.");
  }
  if (!body.name || !body.domain || !body.purpose) throw new Error("Name, domain and purpose are needed.");
  const page = await post("/api/communities", body);
  $("create-form").reset();
  await ctx.refreshMe();
  toast(`${page.name} is ready: invite people from Manage`);
  ctx.navigate(`/c/${encodeURIComponent(page.community)}`);
}
