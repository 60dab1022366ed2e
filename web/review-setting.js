// Manage → Confidential details: whether the confidential-details review is mandatory in
// the community (GET/PUT /api/communities/<id>/repertoire/review; owners, `edit_community`).
// The checkbox shows the server's answer: a refused change puts it back as it was.

import { api, get } from "./api.js";
import { can } from "./can.js";
import { $, showError } from "./dom.js";

let ui = null;
let shown = null; // the community whose setting the box shows

export function init(context) {
  ui = context.ui;
  $("review-required").addEventListener("change", () => change($("review-required").checked));
}

const path = (community) => `/api/communities/${encodeURIComponent(community)}/repertoire/review`;

function render(required) {
  $("review-required").checked = required;
  $("review-status").textContent = required
    ? "Mandatory: each finding must be edited out or confirmed before publishing."
    : "Advice: findings are shown, and the author decides.";
}

export async function show() {
  const section = $("review-section");
  section.hidden = !can("edit_community");
  if (section.hidden) return;
  const community = ui.communityId;
  shown = community;
  showError($("review-error"), "");
  $("review-required").disabled = true;
  try {
    const setting = await get(path(community));
    if (shown === community) render(setting.required);
  } catch (err) {
    showError($("review-error"), err.message);
  } finally {
    $("review-required").disabled = false;
  }
}

async function change(required) {
  const community = shown;
  $("review-required").disabled = true;
  showError($("review-error"), "");
  try {
    render((await api("PUT", path(community), { required })).required);
  } catch (err) {
    render(!required);
    showError($("review-error"), err.message);
  } finally {
    $("review-required").disabled = false;
  }
}
