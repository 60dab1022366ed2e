// Members: everyone in the community, with the role, timeout, removal and reset controls
// your role allows. What shows follows schemas/permissions.md; the server checks again.
// The Manage pane is manage.js; this module starts it and passes its calls on, so the
// shell and the app keep one entry point for both panes.

import { api, post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { can, canAny, grantableRoles } from "./can.js";
import {
  $, button, copyText, el, field, formatDateTime, initials, input, onSubmit, rank, select, showError,
  timeElement, toast,
} from "./dom.js";
import * as manage from "./manage.js";

export { communityEdited, roomsChanged, showManage } from "./manage.js";

let ui = null;
let timeoutRedraw = null;

export function init(context) {
  ui = context.ui;
  manage.init(context);
}

const cpath = (suffix = "") => `/api/communities/${encodeURIComponent(ui.communityId)}${suffix}`;
const myRank = () => rank(ui.role);

export function reset() {
  $("member-list").replaceChildren();
  manage.reset();
}

// --- members ---------------------------------------------------------------------------

export function showMembers() {
  renderMembers();
}

export function membersChanged() {
  if (ui.pane === "members") renderMembers();
}


export function roleChanged() {
  if (ui.pane === "members") renderMembers();
  if (ui.pane === "manage") manage.showManage();
}


function renderMembers() {
  const list = $("member-list");
  if (!ui.community) return;
  const members = [...ui.community.members.values()].sort(
    (a, b) => rank(b.role) - rank(a.role) || a.name.localeCompare(b.name));
  $("members-summary").textContent = `${members.length} member${members.length === 1 ? "" : "s"} in ${ui.community.name}`;
  const existing = new Map([...list.children].map((row) => [row.dataset.member, row]));
  const wanted = [];
  for (const info of members) {
    const signature = JSON.stringify([info.name, info.role, info.timed_out_until, info.timeout_reason,
      ui.role, ui.me && ui.me.id, info.timed_out_until > Date.now()]);
    let row = existing.get(info.member);
    if (!row || row.dataset.signature !== signature) row = memberRow(info, signature);
    existing.delete(info.member);
    wanted.push(row);
  }
  list.replaceChildren(...wanted); // rows that did not change keep what was typed in them
  // Redraw when the next timeout ends, so "Timed out until" goes away by itself.
  clearTimeout(timeoutRedraw);
  const ends = members.map((m) => m.timed_out_until).filter((t) => t > Date.now());
  if (ends.length) {
    const wait = Math.min(Math.min(...ends) - Date.now() + 500, 2 ** 31 - 1);
    timeoutRedraw = setTimeout(membersChanged, wait);
  }
}

function memberRow(info, signature) {
  const row = el("li", "member-row");
  row.dataset.member = info.member;
  row.dataset.signature = signature;
  const head = el("div", "member-head");
  const avatar = el("span", "avatar small", initials(info.name));
  avatar.setAttribute("aria-hidden", "true");
  head.append(avatar, el("strong", "member-name", info.name));
  head.append(el("span", `role-badge role-${info.role}`, info.role));
  const me = ui.me && info.member === ui.me.id;
  if (me) head.append(el("span", "muted", "(you)"));
  row.append(head);
  if (info.timed_out_until > Date.now()) {
    const note = el("p", "timeout-note");
    note.append(document.createTextNode("Timed out until "), timeElement(info.timed_out_until));
    if (info.timeout_reason) note.append(document.createTextNode(`: ${info.timeout_reason}`));
    row.append(note);
  }
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  if (!me && canAny("set_role", "timeout_member", "remove_member", "issue_password_reset")
      && rank(info.role) < myRank()) { // on people ranked below you only
    row.append(memberControls(info, error));
  }
  row.append(error);
  return row;
}

function memberControls(info, error) {
  const controls = el("div", "member-controls");
  const name = info.name;
  const target = `/members/${encodeURIComponent(info.member)}`;

  const roleForm = el("form", "inline-form");
  const roles = select(grantableRoles().map((r) => [r, r]), info.role);
  roleForm.append(field("Role", roles), submitButton("Change role"));
  onSubmit(roleForm, error, async () => {
    if (roles.value === info.role) throw new Error(`${name} is already ${info.role}.`);
    await api("PUT", cpath(`${target}/role`), { role: roles.value });
    toast(`${name} is now ${roles.value}`);
  });

  const timeoutForm = el("form", "inline-form");
  const minutes = input("number", { min: 1, max: 10080, value: 10, required: true });
  const timeoutReason = input("text", { maxlength: 300 });
  timeoutForm.append(field("Minutes", minutes, "field narrow"), field("Timeout reason", timeoutReason),
    submitButton("Time out"));
  onSubmit(timeoutForm, error, async () => {
    const count = Number(minutes.value);
    if (!Number.isInteger(count) || count < 1) throw new Error("Minutes: a whole number, 1 or more.");
    await post(cpath(`${target}/timeout`), { minutes: count, reason: timeoutReason.value.trim() });
    toast(`${name} is timed out for ${count} min`);
  });

  const removeForm = el("form", "inline-form");
  const removeReason = input("text", { maxlength: 300 });
  removeForm.append(field("Removal reason", removeReason), submitButton("Remove", "ghost danger"));
  onSubmit(removeForm, error, async () => {
    const sure = await confirmAction({
      title: `Remove ${name}?`, confirm: `Remove ${name}`,
      text: `${name} leaves the community at once and cannot come back until a convener lifts the removal (Manage → Removed).`,
    });
    if (!sure) return;
    await post(cpath(`${target}/remove`), { reason: removeReason.value.trim() });
    toast(`${name} was removed`);
  });

  if (can("set_role")) controls.append(roleForm);
  if (can("timeout_member")) controls.append(timeoutForm);
  if (can("remove_member")) controls.append(removeForm);

  if (can("issue_password_reset")) {
    const reset = el("div", "inline-form");
    const output = el("div", "link-result");
    output.hidden = true;
    reset.append(button("Password reset link", "ghost small", async (e) => {
      const control = e.currentTarget;
      control.disabled = true;
      showError(error, "");
      try {
        const link = await post(cpath(`${target}/password-reset`));
        const url = input("text", { readonly: true });
        url.value = location.origin + link.path;
        output.replaceChildren(field("Reset link", url, "field wide"),
          button("Copy", "ghost small", () => copyText(url.value, url)),
          el("span", "muted small", `Give it to ${name} yourself; it works once, until ${formatDateTime(link.expires)}.`));
        output.hidden = false;
      } catch (err) {
        showError(error, err.message);
      } finally {
        control.disabled = false;
      }
    }), output);
    controls.append(reset);
  }
  return controls;
}

function submitButton(text, className = "ghost") {
  const node = el("button", `${className} small`, text);
  node.type = "submit";
  return node;
}
