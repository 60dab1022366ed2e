// The form a convener schedules a recurring room with, or edits its rules in: a rule
// builder (weekly, every 2nd week, the nth weekday of the month, a day of the month)
// that writes the RRULE field, which can also be typed in outright; the first session's
// date and time and its IANA time zone; length, lobby and reminder minutes; the agenda
// template and the default host. The server checks everything (an RRULE it cannot read,
// an unknown zone, a start after the rule's UNTIL) and its typed error shows in the
// form's alert box; nothing is saved then.

import { api, get, post } from "./api.js";
import { el, field, input, onSubmit, rank, select } from "./dom.js";
import { NTHS, PRESETS, WEEKDAYS, nthOfDate, presetOf, ruleOf, weekdayOfDate } from "./rrule.js";
import { browserZone } from "./zoned.js";

const COMMUNITY_HOUR = "community hour";

// The members who may host (host role or above), for the host picker.
function hostOptions(ui, current) {
  const hosts = ui.community
    ? [...ui.community.members.values()].filter((m) => rank(m.role) >= rank("host"))
    : [];
  hosts.sort((a, b) => a.name.localeCompare(b.name));
  const options = hosts.map((m) => [m.member, m.name]);
  if (current && !options.some(([id]) => id === current.id)) options.unshift([current.id, current.name]);
  return options;
}

async function templateOptions(ui, current) {
  const options = [[COMMUNITY_HOUR, "Community hour (pairs 10, presentation 50, Q&A 15)"]];
  try {
    const saved = await get(`/api/communities/${encodeURIComponent(ui.communityId)}/templates`);
    for (const t of Array.isArray(saved) ? saved : saved.templates || []) {
      if (t.name !== COMMUNITY_HOUR) options.push([t.name, t.name]);
    }
  } catch {
    // the default template is always there
  }
  if (current && !options.some(([name]) => name === current)) options.push([current, current]);
  return options;
}

// A form element. `series`: the SeriesView to edit (null: create one). `onSaved(view)`.
export function seriesForm(ui, { series = null, onSaved, label }) {
  const editing = Boolean(series);
  const form = el("form", "stack-form series-form");
  form.noValidate = true;
  form.setAttribute("aria-label", label || (editing ? `Edit ${series.title}` : "Schedule a recurring room"));
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;

  const room = select(ui.rooms.map((r) => [r.room, r.name]), ui.current || undefined);
  const title = input("text", { maxlength: 200, required: true, placeholder: "e.g. Case clinic" });
  const [startDate, startTime] = editing ? series.start.split("T") : ["", "18:00"];
  const date = input("date", { required: true });
  const time = input("time", { required: true });
  date.value = startDate;
  time.value = (startTime || "").slice(0, 5);
  const chosen = editing ? presetOf(series.rule) : { preset: "weekly" };
  const preset = select(PRESETS, chosen.preset);
  const weekday = select(WEEKDAYS, chosen.weekday || weekdayOfDate(date.value) || "TU");
  const nth = select(NTHS, chosen.nth || nthOfDate(date.value));
  const monthday = input("number", { min: 1, max: 31, value: chosen.monthday || 1 });
  const rule = input("text", { maxlength: 500, required: true, autocomplete: "off", spellcheck: "false",
    placeholder: "FREQ=WEEKLY;BYDAY=TH" });
  const zone = input("text", { maxlength: 64, required: true, list: "timezones", autocomplete: "off" });
  const duration = input("number", { min: 5, max: 720, value: 60, required: true });
  const lobby = input("number", { min: 0, max: 240, value: 10, required: true });
  const reminder = input("number", { min: 0, max: 10080, value: 60, required: true });
  const template = select([[COMMUNITY_HOUR, "Community hour"]], COMMUNITY_HOUR);
  const host = select(hostOptions(ui, ui.me), editing ? series.host : ui.me && ui.me.id);
  if (editing) {
    title.value = series.title;
    rule.value = series.rule;
    zone.value = series.zone;
    duration.value = series.duration_min;
    lobby.value = series.lobby_min;
    reminder.value = series.reminder_min;
  } else {
    zone.value = browserZone();
  }
  templateOptions(ui, editing ? series.template : null).then((options) => {
    template.replaceChildren(...select(options).children);
    template.value = editing && series.template ? series.template : COMMUNITY_HOUR;
  });

  const weekdayField = field("Weekday", weekday, "field");
  const nthField = field("Which one", nth, "field");
  const monthdayField = field("Day of the month", monthday, "field narrow");
  // The builder writes the rule; typing a rule of your own makes the preset "Custom".
  const build = () => {
    const p = preset.value;
    weekdayField.hidden = !["weekly", "fortnightly", "monthly-weekday"].includes(p);
    nthField.hidden = p !== "monthly-weekday";
    monthdayField.hidden = p !== "monthly-day";
    const made = ruleOf({ preset: p, weekday: weekday.value, nth: nth.value, monthday: Number(monthday.value) || 1 });
    if (made) rule.value = made;
  };
  for (const control of [preset, weekday, nth, monthday]) control.addEventListener("change", build);
  monthday.addEventListener("input", build);
  rule.addEventListener("input", () => {
    const seen = presetOf(rule.value);
    preset.value = seen.preset;
    if (seen.weekday) weekday.value = seen.weekday;
    if (seen.nth) nth.value = seen.nth;
    if (seen.monthday) monthday.value = seen.monthday;
    weekdayField.hidden = !["weekly", "fortnightly", "monthly-weekday"].includes(seen.preset);
    nthField.hidden = seen.preset !== "monthly-weekday";
    monthdayField.hidden = seen.preset !== "monthly-day";
  });
  // A new first date moves a weekly rule's weekday along with it (until edited by hand).
  date.addEventListener("change", () => {
    if (preset.value === "custom" || !date.value) return;
    weekday.value = weekdayOfDate(date.value) || weekday.value;
    nth.value = nthOfDate(date.value);
    monthday.value = Number(date.value.split("-")[2]) || monthday.value;
    build();
  });
  if (editing) {
    weekdayField.hidden = !["weekly", "fortnightly", "monthly-weekday"].includes(chosen.preset);
    nthField.hidden = chosen.preset !== "monthly-weekday";
    monthdayField.hidden = chosen.preset !== "monthly-day";
  } else {
    build();
  }

  const when = el("div", "inline-form");
  when.append(field("First session", date), field("Start time", time), field("Time zone", zone, "field wide"));
  const repeats = el("div", "inline-form");
  repeats.append(field("Repeats", preset), weekdayField, nthField, monthdayField);
  const lengths = el("div", "inline-form");
  lengths.append(field("Length (minutes)", duration, "field narrow"),
    field("Lobby opens (minutes before)", lobby, "field narrow"),
    field("Reminder (minutes before)", reminder, "field narrow"));
  const defaults = el("div", "inline-form");
  defaults.append(field("Agenda template", template), field("Default host", host));
  const submit = el("button", "primary", editing ? "Save rule" : "Create recurring room");
  submit.type = "submit";
  if (!editing) form.append(field("Room", room));
  form.append(field("Title", title), when, repeats, field("Rule (RRULE)", rule, "field wide"),
    lengths, defaults, error, submit);

  onSubmit(form, error, async () => {
    const body = {
      title: title.value.trim(), rule: rule.value.trim(), start: `${date.value}T${time.value}`,
      zone: zone.value.trim(), duration_min: Number(duration.value), lobby_min: Number(lobby.value),
      reminder_min: Number(reminder.value), host: host.value || null, template: template.value || null,
    };
    if (!body.title) throw new Error("Give the recurring room a title.");
    if (!date.value || !time.value) throw new Error("Choose the date and time of the first session.");
    if (!body.rule) throw new Error("Choose how it repeats, or type an RRULE.");
    if (!body.zone) throw new Error("Choose a time zone, e.g. Europe/Berlin.");
    for (const [name, value] of [["Length", body.duration_min], ["Lobby", body.lobby_min], ["Reminder", body.reminder_min]]) {
      if (!Number.isInteger(value)) throw new Error(`${name}: a whole number of minutes.`);
    }
    let view;
    if (editing) {
      const changed = {};
      const before = { ...series, start: series.start.slice(0, 16), template: series.template || COMMUNITY_HOUR };
      for (const key of Object.keys(body)) if (body[key] !== before[key]) changed[key] = body[key];
      if (!Object.keys(changed).length) throw new Error("Nothing changed.");
      view = await api("PATCH", `/api/series/${encodeURIComponent(series.series)}`, changed);
    } else {
      if (!room.value) throw new Error("Create a room first: a recurring room meets in one.");
      view = await post(`/api/communities/${encodeURIComponent(ui.communityId)}/series`, { ...body, room: room.value });
    }
    if (onSaved) onSaved(view);
  });
  form.refreshRooms = () => {
    const chosenRoom = room.value;
    room.replaceChildren(...select(ui.rooms.map((r) => [r.room, r.name])).children);
    if (ui.rooms.some((r) => r.room === chosenRoom)) room.value = chosenRoom;
    const chosenHost = host.value;
    host.replaceChildren(...select(hostOptions(ui, ui.me)).children);
    if ([...host.options].some((o) => o.value === chosenHost)) host.value = chosenHost;
  };
  form.clear = () => {
    title.value = "";
    error.hidden = true;
  };
  return form;
}
