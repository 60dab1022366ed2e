// Manage → recurring rooms, for conveners (schedule_series): schedule a new one
// (series-form.js), the sessions of the next 14 days that have no presenter or no
// backup, and who attended a past session (a table, and the same as CSV).

import { get } from "./api.js";
import { can } from "./can.js";
import { $, el, onSubmit, showError, timeElement, toast } from "./dom.js";
import { seriesForm } from "./series-form.js";
import { formatIn } from "./zoned.js";

let ui = null;
let zoneOf = () => "UTC";
let form = null;

const cpath = (suffix) => `/api/communities/${encodeURIComponent(ui.communityId)}${suffix}`;
const opath = (series, occurrence, suffix = "") =>
  `/api/series/${encodeURIComponent(series)}/occurrences/${encodeURIComponent(occurrence)}${suffix}`;

export function init(context, viewerZone) {
  ui = context.ui;
  zoneOf = viewerZone;
  $("gaps-refresh").addEventListener("click", () => loadGaps());
  onSubmit($("attendance-form"), $("attendance-error"), showAttendance);
}

export function reset() {
  form = null;
  $("series-create").replaceChildren();
  $("gap-list").replaceChildren();
  $("attendance-list").replaceChildren();
  $("attendance-occurrence").replaceChildren();
  $("attendance-csv").hidden = true;
  showError($("attendance-error"), "");
}

export function show() {
  const allowed = can("schedule_series");
  for (const id of ["series-section", "gaps-section", "attendance-section"]) $(id).hidden = !allowed;
  if (!allowed) return;
  if (!form) {
    form = seriesForm(ui, {
      label: "Schedule a recurring room",
      onSaved: (view) => {
        toast(`${view.title} is scheduled: see Schedule`);
        form.clear();
      },
    });
    $("series-create").replaceChildren(form);
  } else {
    form.refreshRooms();
  }
  loadGaps();
  loadPast();
}

export function roomsChanged() {
  if (form) form.refreshRooms();
}

async function loadGaps() {
  let gaps;
  try {
    gaps = await get(cpath("/gaps"));
  } catch (error) {
    toast(error.message);
    return;
  }
  const zone = zoneOf();
  $("gap-list").replaceChildren(...gaps.map((o) => {
    const item = el("li", "gap");
    item.dataset.occurrence = o.occurrence;
    const missing = [!o.presenter && "no presenter", !o.backup && "no backup"].filter(Boolean).join(", ");
    const who = [o.presenter && `presenter ${o.presenter_name}`, o.backup && `backup ${o.backup_name}`]
      .filter(Boolean).join(", ");
    item.append(el("strong", "", o.title), el("span", "", ` · ${formatIn(o.start_ms, zone)} · `),
      el("span", "gap-missing", missing));
    if (who) item.append(el("span", "muted small", ` (${who})`));
    return item;
  }));
  $("gap-empty").hidden = gaps.length > 0;
}

// The past sessions (the last 90 days, not cancelled), newest first, to pick one.
async function loadPast() {
  const now = Date.now();
  let past;
  try {
    past = await get(cpath(`/occurrences?from_ms=${now - 90 * 86400000}&to_ms=${now}`));
  } catch (error) {
    showError($("attendance-error"), error.message);
    return;
  }
  const select = $("attendance-occurrence");
  const chosen = select.value;
  const zone = zoneOf();
  const options = past.filter((o) => !o.cancelled && o.start_ms <= now).sort((a, b) => b.start_ms - a.start_ms);
  select.replaceChildren(...options.map((o) => {
    const option = el("option", "", `${o.title} · ${formatIn(o.start_ms, zone)}`);
    option.value = `${o.series}/${o.occurrence}`;
    return option;
  }));
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  $("attendance-form").querySelector("button").disabled = options.length === 0;
  if (!options.length) {
    $("attendance-empty").textContent = "No past sessions yet.";
    $("attendance-empty").hidden = false;
  }
}

function minutes(seconds) {
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

async function showAttendance() {
  const value = $("attendance-occurrence").value;
  if (!value) throw new Error("Choose a past session.");
  const [series, occurrence] = value.split("/");
  const table = await get(opath(series, occurrence, "/attendance"));
  const body = $("attendance-list");
  body.replaceChildren(...table.rows.map((row) => {
    const tr = el("tr");
    tr.dataset.member = row.member;
    const joined = el("td");
    joined.append(timeElement(row.joined_ms));
    const left = el("td");
    if (row.left_ms) left.append(timeElement(row.left_ms));
    else left.textContent = "stayed to the end";
    tr.append(el("td", "", row.name), el("td", "", row.rsvp || "—"), joined, left,
      el("td", "", minutes(row.duration_s)));
    return tr;
  }));
  $("attendance-empty").textContent = table.session ? "Nobody attended." : "This session's lobby never opened.";
  $("attendance-empty").hidden = table.rows.length > 0;
  const csv = $("attendance-csv");
  csv.href = opath(series, occurrence, "/attendance.csv");
  csv.hidden = false;
}
