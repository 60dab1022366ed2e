// What people want to see, per recurring room: members propose topics and upvote them
// (a second press takes the vote back); a convener turns a topic into the title of one
// of the upcoming sessions. Most votes first, as the server sorts them.

import { api, get, post } from "./api.js";
import { can } from "./can.js";
import { el, field, input, onSubmit, select, showError, toast } from "./dom.js";
import { formatIn } from "./zoned.js";

const spath = (series, suffix = "") => `/api/series/${encodeURIComponent(series)}${suffix}`;

// The topics block of one series. `env`: {zone, upcoming: OccurrenceView[] of it, changed()}.
export function block(series, env) {
  const box = el("section", "topics");
  box.setAttribute("aria-label", `Topics for ${series.title}`);
  box.append(el("h5", "", "Topics people want"));
  const list = el("ol", "topic-list");
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const empty = el("p", "muted small", "No topics yet: propose the first.");
  empty.hidden = true;
  box.append(list, empty);
  const load = async () => {
    let topics;
    try {
      topics = await get(spath(series.series, "/topics"));
    } catch (failure) {
      showError(error, failure.message);
      return;
    }
    empty.hidden = topics.length > 0;
    list.replaceChildren(...topics.map((topic) => topicRow(series, topic, env, load, error)));
  };
  if (can("plan_sessions") && !series.ended_ms) {
    const form = el("form", "inline-form");
    form.setAttribute("aria-label", `Propose a topic for ${series.title}`);
    const text = input("text", { maxlength: 200, required: true, autocomplete: "off" });
    const submit = el("button", "primary small", "Propose");
    submit.type = "submit";
    form.append(field("Propose a topic", text, "field wide"), submit);
    onSubmit(form, error, async () => {
      const title = text.value.trim();
      if (!title) throw new Error("Say what the topic is.");
      await post(spath(series.series, "/topics"), { title });
      text.value = "";
      toast("Topic proposed");
      await load();
    });
    box.append(form);
  }
  box.append(error);
  load();
  return box;
}

function topicRow(series, topic, env, reload, error) {
  const item = el("li", "topic");
  item.dataset.topic = String(topic.topic);
  const votes = el("span", "topic-votes", String(topic.votes));
  votes.setAttribute("aria-label", `${topic.votes} vote${topic.votes === 1 ? "" : "s"}`);
  item.append(votes, el("span", "topic-title", topic.title), el("span", "muted small", ` proposed by ${topic.name}`));
  if (topic.used_for.length) item.append(el("span", "muted small", " · scheduled"));
  if (can("plan_sessions")) {
    const vote = el("button", topic.voted ? "primary small" : "ghost small", topic.voted ? "Upvoted" : "Upvote");
    vote.type = "button";
    vote.setAttribute("aria-pressed", String(topic.voted));
    vote.setAttribute("aria-label", `Upvote ${topic.title}`);
    vote.addEventListener("click", async () => {
      vote.disabled = true;
      showError(error, "");
      try {
        await api(topic.voted ? "DELETE" : "PUT", spath(series.series, `/topics/${topic.topic}/vote`));
        await reload();
      } catch (failure) {
        showError(error, failure.message);
        vote.disabled = false;
      }
    });
    item.append(vote);
  }
  const open = env.upcoming.filter((o) => !o.cancelled && !o.session);
  if (can("schedule_series") && open.length) {
    const form = el("form", "inline-form topic-use");
    form.setAttribute("aria-label", `Use ${topic.title} as a session's title`);
    const which = select(open.map((o) => [o.occurrence, formatIn(o.start_ms, env.zone)]));
    const submit = el("button", "ghost small", "Use as title");
    submit.type = "submit";
    form.append(field("For the session of", which), submit);
    onSubmit(form, error, async () => {
      await api("PUT", spath(series.series, `/occurrences/${encodeURIComponent(which.value)}/title`),
        { title: topic.title, topic: topic.topic });
      toast(`The session is now "${topic.title}"`);
      env.changed();
    });
    item.append(form);
  }
  return item;
}
