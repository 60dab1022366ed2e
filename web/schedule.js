// Schedule: the community's recurring rooms for everyone. Upcoming sessions in your time
// zone (your profile's; a new account starts in its browser's, and without one the
// browser's own), each with RSVP, volunteering and, once its lobby opens, Join
// (occurrence.js); every recurring room with its rule in words, its calendar feed,
// its topics (topics.js) and, for conveners, Edit rule and End series; your calendar
// feed of the whole community. The first 8 sessions show, then "Show all". Read over
// HTTP; live: once shown, the socket follows the community's series streams and any of
// their events (a convener cancelling or moving a session, someone's RSVP or topic, a
// lobby opening) reads the view again, debounced, while the pane shows. A redraw waits
// while you are typing in one of its forms. After a reconnect the view is read once more
// and the series followed anew (socket.js does not resume them).

import { get, post } from "./api.js";
import { can } from "./can.js";
import { confirmAction } from "./confirm.js";
import { $, button, copyText, el, field, input, showError, toast } from "./dom.js";
import * as occurrence from "./occurrence.js";
import * as reminders from "./reminders.js";
import { describe } from "./rrule.js";
import { seriesForm } from "./series-form.js";
import * as topics from "./topics.js";
import { browserZone, formatIn, knownZone } from "./zoned.js";

const SETTLE_MS = 250; // events in a burst (a move is several) read the view once
const SHOWN_FIRST = 8; // sessions listed before "Show all"
const SERIES = "series:";

let ui = null;
let gateway = null;
let timer = null; // a pending redraw after series events
let stale = false; // series events came while somebody was typing here
const touched = new Set(); // fields typed in since the view was drawn
let loading = 0;
let showAll = false;
const editing = new Set(); // series whose Edit rule form is open

const cpath = (suffix) => `/api/communities/${encodeURIComponent(ui.communityId)}${suffix}`;

export function init(context) {
  ui = context.ui;
  gateway = context.gateway;
  gateway.addEventListener("event", (e) => {
    if (e.detail.stream.startsWith(SERIES)) changedLive();
  });
  $("schedule-view").addEventListener("input", (e) => touched.add(e.target));
  $("schedule-view").addEventListener("focusout", () => {
    if (stale) changedLive();
  });
  $("feed-community-copy").addEventListener("click", () => copyText($("feed-community").value, $("feed-community")));
  $("feed-reset").addEventListener("click", resetFeeds);
  $("upcoming-more").addEventListener("click", () => {
    showAll = !showAll;
    load();
  });
}

// The zone times show in: the profile's, else this browser's.
export function viewerZone() {
  const zone = ui && ui.account && ui.account.timezone;
  return knownZone(zone) ? zone : browserZone();
}

export function show() {
  document.title = `Schedule · ${ui.community ? ui.community.name : "Practica"}`;
  load();
}

// Somebody is typing here: a field of the pane has the focus, or one typed in still holds
// words not sent (drawing the view again would lose them).
function typing() {
  const focus = document.activeElement;
  if (focus && focus.matches("input:not([readonly]), textarea, select")
    && $("schedule-view").contains(focus)) return true;
  return [...touched].some((field) => field.isConnected && field.value !== field.defaultValue);
}

// A followed series changed: read the view again soon, unless it is hidden (show() reads
// it then) or somebody is typing in it (after they leave the field, or send or clear it).
function changedLive() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (ui.pane !== "schedule") return;
    stale = typing();
    if (!stale) load();
  }, SETTLE_MS);
}

export function reset() {
  clearTimeout(timer);
  timer = null;
  stale = false;
  editing.clear();
  showAll = false;
  $("upcoming-list").replaceChildren();
  $("series-list").replaceChildren();
  $("series-list").feeds = {};
  $("feed-community").value = "";
}

// On every ready (shell.applyRole), a reconnect's too: the series followed are not
// resumed (socket.js), so the view is read once more and they are followed anew.
export function roleChanged() {
  $("nav-schedule").hidden = !can("view_community");
  if (ui.pane === "schedule") load();
}

export async function load() {
  const community = ui.communityId;
  const turn = ++loading;
  let occurrences;
  let series;
  try {
    [occurrences, series] = await Promise.all([get(cpath("/occurrences")), get(cpath("/series"))]);
  } catch (error) {
    if (turn === loading) showError($("schedule-error"), error.message);
    return;
  }
  if (community !== ui.communityId || turn !== loading) return;
  showError($("schedule-error"), "");
  stale = false;
  render(occurrences, series);
  loadFeeds(community);
  follow(series);
}

// Follow every series listed from the seq it was read at (those followed already are
// skipped), so changes arrive over the socket, those since the read included. A refusal
// (the role changed meanwhile) leaves the view as read.
async function follow(series) {
  const streams = Object.fromEntries(series.map((s) => [SERIES + s.series, s.seq]));
  try {
    const syncs = await gateway.followStreams(streams);
    if (syncs.some((sync) => sync.reason)) changedLive(); // too far behind to replay
  } catch {
    // the view stays as read; the next show reads and follows again
  }
}

function render(occurrences, series) {
  touched.clear();
  const zone = viewerZone();
  const browser = browserZone();
  $("schedule-zone").textContent = zone === browser
    ? `Times are in ${zone}, this browser's time zone. Change it in your profile.`
    : `Times are in ${zone}, your profile's time zone (this browser is in ${browser}).`;
  const now = Date.now();
  const upcoming = occurrences.filter((o) => o.end_ms > now).sort((a, b) => a.start_ms - b.start_ms);
  const env = {
    ui, zone, me: ui.me && ui.me.id,
    changed: () => {
      load();
      reminders.load(); // an answer of yes may bring a reminder that has fired already
    },
  };
  // Keep an open "Change this session" open across the redraw.
  const open = new Set([...$("upcoming-list").querySelectorAll("li.occurrence")]
    .filter((li) => li.querySelector("details[open]")).map((li) => li.dataset.occurrence));
  const shown = showAll ? upcoming : upcoming.slice(0, SHOWN_FIRST);
  $("upcoming-list").replaceChildren(...shown.map((o) => {
    const item = occurrence.card(o, env);
    if (open.has(o.occurrence)) item.querySelector("details")?.setAttribute("open", "");
    return item;
  }));
  $("upcoming-empty").hidden = upcoming.length > 0;
  const more = $("upcoming-more");
  more.hidden = upcoming.length <= SHOWN_FIRST;
  more.textContent = showAll ? "Show fewer" : `Show all ${upcoming.length} sessions`;
  more.setAttribute("aria-expanded", String(showAll));
  const list = $("series-list");
  const feeds = list.feeds || {};
  list.replaceChildren(...series.map((s) => seriesBlock(s, upcoming.filter((o) => o.series === s.series), env, feeds)));
  $("series-empty").hidden = series.length > 0;
}

function seriesBlock(s, upcoming, env, feeds) {
  const box = el("article", "series-card");
  box.dataset.series = s.series;
  box.setAttribute("aria-label", s.title);
  const room = ui.rooms.find((r) => r.room === s.room);
  box.append(el("h4", "", s.title));
  const [date, time] = s.start.split("T");
  const rule = `${describe(s.rule)} at ${time.slice(0, 5)} (${s.zone}), from ${date}`;
  box.append(el("p", "series-rule", rule));
  box.append(el("p", "muted small series-meta", [`# ${room ? room.name : s.room}`, `Host: ${s.host_name}`,
    `${s.duration_min} min`, `lobby opens ${s.lobby_min} min before`,
    s.ended_ms ? `ended ${formatIn(s.ended_ms, env.zone)}` : null].filter(Boolean).join(" · ")));
  const feed = input("text", { readonly: true });
  feed.className = "series-feed";
  feed.value = feeds[s.series] ? location.origin + feeds[s.series] : "";
  const feedRow = el("div", "link-result");
  feedRow.append(field(`Calendar feed of ${s.title}`, feed, "field wide"),
    button("Copy", "ghost small", () => copyText(feed.value, feed)));
  box.append(feedRow);
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  if (can("schedule_series") && !s.ended_ms) {
    const actions = el("div", "row-buttons");
    const edit = button(editing.has(s.series) ? "Close" : "Edit rule", "ghost small", () => {
      if (editing.has(s.series)) editing.delete(s.series);
      else editing.add(s.series);
      load();
    });
    edit.setAttribute("aria-expanded", String(editing.has(s.series)));
    const end = button("End series", "ghost small danger", async () => {
      const sure = await confirmAction({
        title: `End ${s.title}?`, confirm: "End the series",
        text: "No session of it takes place from now on; past ones and their attendance stay.",
      });
      if (!sure) return;
      showError(error, "");
      try {
        await post(`/api/series/${encodeURIComponent(s.series)}/end`, {});
        toast(`${s.title} has ended`);
        load();
      } catch (failure) {
        showError(error, failure.message);
      }
    });
    actions.append(edit, end);
    box.append(actions);
    if (editing.has(s.series)) {
      box.append(seriesForm(ui, {
        series: s,
        onSaved: () => {
          editing.delete(s.series);
          toast("Rule saved");
          load();
        },
      }));
    }
  }
  box.append(error, topics.block(s, { zone: env.zone, upcoming, changed: () => load() }));
  return box;
}

async function loadFeeds(community) {
  if (!ui.account) {
    $("feed-section").hidden = true;
    return;
  }
  let links;
  try {
    links = await get(cpath("/feeds"));
  } catch (error) {
    showError($("feed-error"), error.message);
    return;
  }
  if (community !== ui.communityId) return;
  $("feed-section").hidden = false;
  showError($("feed-error"), "");
  $("feed-community").value = location.origin + links.community;
  $("series-list").feeds = links.series;
  for (const box of $("series-list").querySelectorAll(".series-card")) {
    const path = links.series[box.dataset.series];
    const feed = box.querySelector("input.series-feed");
    if (feed && path) feed.value = location.origin + path;
  }
}

async function resetFeeds() {
  const sure = await confirmAction({
    title: "Make new feed addresses?", confirm: "Make new addresses",
    text: "Calendars subscribed to the old addresses stop getting updates; subscribe again with the new ones.",
  });
  if (!sure) return;
  try {
    await post("/api/feeds/reset", {});
    toast("New feed addresses made");
    loadFeeds(ui.communityId);
  } catch (error) {
    showError($("feed-error"), error.message);
  }
}
