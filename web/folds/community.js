// A community's state as a fold of its snapshot and the events after it: the same fold
// the server keeps (server/domain/community.py), checked against it by
// tests/browser/test_folds.py. Pure: no DOM, no socket. An event at or below the
// state's seq changes nothing; an erased or unreadable body moves seq only.
// description_html is rendered by the server only: an edit sets it to null, and the
// view fetches it again.

export const KIND = "community";

export function fromSnapshot(snapshot, seq = 0) {
  const members = new Map(snapshot.members.map((m) => [m.member, { ...m }]));
  const timeouts = new Map();
  for (const m of snapshot.members) {
    if (m.timed_out_until) timeouts.set(m.member, { until: m.timed_out_until, reason: m.timeout_reason || "" });
  }
  return {
    community: snapshot.community, name: snapshot.name, domain: snapshot.domain,
    purpose: snapshot.purpose, description: snapshot.description,
    description_html: snapshot.description_html, join_policy: snapshot.join_policy, seq,
    rooms: new Map(snapshot.rooms.map((r) => [r.room, { ...r }])),
    members,
    timeouts, // everyone's last timeout, member or not: it runs on if they come back
  };
}

// Fold one event into state (in place). Returns what changed, for the view to redraw:
// {rooms}, {members}, {header}, {timeout}, or null when nothing did.
export function apply(state, event) {
  if (event.seq <= state.seq) return null;
  state.seq = event.seq;
  const body = event.body;
  if (!body) return null;
  const info = state.members.get(body.member);
  switch (body.type) {
    case "community_created":
    case "community_edited":
      Object.assign(state, {
        name: body.name, domain: body.domain, purpose: body.purpose,
        description: body.description || "", description_html: null,
        join_policy: body.join_policy || "approval",
      });
      if (body.type === "community_created" && body.owner) {
        state.members.set(body.owner, {
          member: body.owner, name: body.owner_name, role: "owner", timed_out_until: 0, timeout_reason: "",
        });
      }
      return { header: true, members: true };
    case "room_created":
      state.rooms.set(body.room, { room: body.room, name: body.name, topic: body.topic || "" });
      return { rooms: true };
    case "member_admitted": {
      let timeout = state.timeouts.get(body.member) || { until: 0, reason: "" };
      if (timeout.until <= event.ts) timeout = { until: 0, reason: "" }; // ended before
      state.members.set(body.member, {
        member: body.member, name: body.name, role: body.role,
        timed_out_until: timeout.until, timeout_reason: timeout.reason,
      });
      return { members: true, header: true };
    }
    case "member_timed_out":
      state.timeouts.set(body.member, { until: body.until, reason: body.reason || "" });
      if (info) {
        info.timed_out_until = body.until;
        info.timeout_reason = body.reason || "";
      }
      return { members: true, timeout: true };
    case "role_changed":
      if (!info) return null;
      info.role = body.role;
      return { members: true };
    case "member_renamed":
      if (!info) return null;
      info.name = body.name;
      return { members: true };
    case "member_removed":
      if (!state.members.delete(body.member)) return null;
      return { members: true, header: true };
    default: // removal_lifted, unreadable, or a kind this client does not know yet
      return null;
  }
}

export function fold(snapshot, seq, events) {
  const state = fromSnapshot(snapshot, seq);
  for (const event of events) apply(state, event);
  return state;
}

// A plain, ordered object to compare with the server's fold (normal_form in
// community.py): rooms and members by id; description_html left out (server-rendered).
export function normalForm(state) {
  const byKey = (key) => (a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0);
  return {
    community: state.community, name: state.name, domain: state.domain, purpose: state.purpose,
    description: state.description, join_policy: state.join_policy, seq: state.seq,
    rooms: [...state.rooms.values()].sort(byKey("room"))
      .map((r) => ({ room: r.room, name: r.name, topic: r.topic })),
    members: [...state.members.values()].sort(byKey("member")).map((m) => ({
      member: m.member, name: m.name, role: m.role,
      timed_out_until: m.timed_out_until || 0, timeout_reason: m.timeout_reason || "",
    })),
  };
}
