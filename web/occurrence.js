// One upcoming session of a recurring room, as a card in the Schedule: when it is in
// your time zone (and in the series' own, when that differs), its host, presenter and
// backup, your RSVP, volunteering, and, once its lobby is open, a Join link (the card
// lights up if you said you would come). Conveners get Cancel or Restore, Move and Host
// for this one session. Every change is an HTTP call; a refusal shows in the card.

import { api, post } from "./api.js";
import { can } from "./can.js";
import { confirmAction } from "./confirm.js";
import { button, el, field, input, rank, select, showError, toast } from "./dom.js";
import { clockIn, formatIn, zoneNameAt } from "./zoned.js";

const ANSWERS = [["yes", "Yes"], ["maybe", "Maybe"], ["no", "No"]];

const opath = (o, suffix = "") =>
  `/api/series/${encodeURIComponent(o.series)}/occurrences/${encodeURIComponent(o.occurrence)}${suffix}`;

// Whether the occurrence's live session can be joined now (its lobby opened, not over).
export const lobbyOpen = (o, now = Date.now()) => Boolean(o.session) && !o.cancelled && now < o.end_ms;
export const lit = (o, now = Date.now()) => lobbyOpen(o, now) && (o.my_rsvp === "yes" || o.my_rsvp === "maybe");

// "Tue 8 Dec 2026, 18:00–19:00 AEDT" in the zone.
export function whenText(o, zone) {
  return `${formatIn(o.start_ms, zone)}–${clockIn(o.end_ms, zone)} ${zoneNameAt(o.start_ms, zone)}`;
}

function errorBox() {
  const box = el("p", "form-error");
  box.setAttribute("role", "alert");
  box.hidden = true;
  return box;
}

// The card. `env`: {ui, zone, me, refresh(), changed(view)}.
export function card(o, env) {
  const { zone, me } = env;
  const item = el("li", "occurrence");
  item.dataset.occurrence = o.occurrence;
  item.dataset.series = o.series;
  item.classList.toggle("cancelled", o.cancelled);
  item.classList.toggle("lit", lit(o));
  const when = whenText(o, zone);
  const head = el("div", "occurrence-head");
  const title = el("h4", "occurrence-title", o.title);
  const time = el("time", "occurrence-when", when);
  time.dateTime = new Date(o.start_ms).toISOString();
  head.append(title, time);
  item.append(head);
  const room = env.ui.rooms.find((r) => r.room === o.room);
  const meta = [`# ${room ? room.name : o.room}`, `Host: ${o.host_name}`];
  if (o.zone !== zone) meta.push(`${formatIn(o.start_ms, o.zone)} in ${o.zone}`);
  item.append(el("p", "muted small occurrence-meta", meta.join(" · ")));
  if (o.cancelled) {
    item.append(el("p", "occurrence-status", `Cancelled${o.reason ? `: ${o.reason}` : ""}`));
  } else if (o.moved) {
    item.append(el("p", "occurrence-status", `Moved from ${formatIn(o.original_start_ms, zone)}`));
  }
  const coming = Object.values(o.rsvps || {}).filter((a) => a === "yes").length;
  const people = [
    o.presenter ? `Presenter: ${o.presenter_name}` : "No presenter yet",
    o.backup ? `Backup: ${o.backup_name}` : "no backup yet",
    `${coming} coming`,
  ];
  item.append(el("p", "small occurrence-people", people.join(" · ")));
  const error = errorBox();
  const run = (action, done) => async (e) => {
    const control = e && e.currentTarget;
    if (control) control.disabled = true;
    showError(error, "");
    try {
      const view = await action();
      if (done) toast(done);
      env.changed(view);
    } catch (failure) {
      showError(error, failure.message);
      if (control) control.disabled = false;
    }
  };
  if (lobbyOpen(o)) {
    const join = el("a", "button-link primary join-link", "Join the session");
    join.href = `/s/${encodeURIComponent(o.session)}`;
    join.dataset.internal = "";
    join.setAttribute("aria-label", `Join ${o.title}: the lobby is open`);
    const line = el("p", "lobby-line");
    line.append(el("span", "lobby-badge", "Lobby open"), join);
    item.append(line);
  }
  const upcoming = !o.cancelled && Date.now() < o.start_ms;
  if (upcoming && can("plan_sessions")) {
    const rsvp = el("div", "row-buttons rsvp");
    rsvp.setAttribute("role", "group");
    rsvp.setAttribute("aria-label", `Coming to ${o.title} on ${formatIn(o.start_ms, zone)}?`);
    rsvp.append(el("span", "small", "Coming?"));
    for (const [answer, text] of ANSWERS) {
      const pressed = o.my_rsvp === answer;
      const b = button(text, pressed ? "primary small" : "ghost small",
        run(() => api("PUT", opath(o, "/rsvp"), { answer }), pressed ? null : `You answered ${text.toLowerCase()}`));
      b.setAttribute("aria-pressed", String(pressed));
      rsvp.append(b);
    }
    item.append(rsvp);
    const volunteer = el("div", "row-buttons volunteer");
    for (const role of ["presenter", "backup"]) {
      const holder = o[role];
      if (holder === me) {
        volunteer.append(button(role === "presenter" ? "Stop presenting" : "Stop being the backup", "ghost small",
          run(() => post(opath(o, "/withdraw"), { role }), "Withdrawn")));
      } else if (!holder) {
        volunteer.append(button(role === "presenter" ? "Volunteer to present" : "Be the backup", "ghost small",
          run(() => post(opath(o, "/volunteer"), { role }), role === "presenter" ? "You present" : "You are the backup")));
      }
    }
    if (volunteer.children.length) item.append(volunteer);
  }
  if (can("schedule_series") && Date.now() < o.start_ms && !o.session) item.append(convenerControls(o, env, run));
  item.append(error);
  return item;
}

// Cancel or restore, move, host: for this one session (the rule stays).
function convenerControls(o, env, run) {
  const box = el("details", "occurrence-admin");
  box.append(el("summary", "small", "Change this session"));
  if (o.cancelled) {
    box.append(button("Restore this session", "ghost small",
      run(() => post(opath(o, "/restore")), "Session restored")));
    return box;
  }
  const cancel = el("form", "inline-form");
  cancel.setAttribute("aria-label", `Cancel ${o.title} on ${formatIn(o.start_ms, env.zone)}`);
  const reason = input("text", { maxlength: 300 });
  const cancelButton = el("button", "ghost small danger", "Cancel this session");
  cancelButton.type = "submit";
  cancel.append(field("Reason", reason, "field wide"), cancelButton);
  cancel.addEventListener("submit", (e) => {
    e.preventDefault();
    confirmAction({
      title: `Cancel ${o.title}?`, confirm: "Cancel the session",
      text: `${formatIn(o.start_ms, env.zone)} will not take place; the rest of the series stays.`,
    }).then((sure) => {
      if (sure) run(() => post(opath(o, "/cancel"), { reason: reason.value.trim() }), "Session cancelled")();
    });
  });

  const move = el("form", "inline-form");
  move.setAttribute("aria-label", `Move ${o.title} on ${formatIn(o.start_ms, env.zone)}`);
  const start = input("datetime-local", { required: true });
  start.value = o.local_start.slice(0, 16);
  const moveButton = el("button", "ghost small", "Move");
  moveButton.type = "submit";
  move.append(field(`New start (${o.zone})`, start), moveButton);
  move.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!start.value) return;
    run(() => post(opath(o, "/move"), { start: start.value.slice(0, 16) }), "Session moved")();
  });

  const hostForm = el("form", "inline-form");
  hostForm.setAttribute("aria-label", `Host of ${o.title} on ${formatIn(o.start_ms, env.zone)}`);
  const hosts = env.ui.community
    ? [...env.ui.community.members.values()].filter((m) => rank(m.role) >= rank("host"))
      .sort((a, b) => a.name.localeCompare(b.name)).map((m) => [m.member, m.name])
    : [[o.host, o.host_name]];
  const host = select(hosts, o.host);
  const hostButton = el("button", "ghost small", "Set host");
  hostButton.type = "submit";
  hostForm.append(field("Host of this session", host), hostButton);
  hostForm.addEventListener("submit", (e) => {
    e.preventDefault();
    run(() => api("PUT", opath(o, "/host"), { host: host.value }), "Host set")();
  });
  box.append(cancel, move, hostForm);
  return box;
}
