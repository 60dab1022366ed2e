// A room's state as a fold of its snapshot and the events after it: the same fold the
// server keeps (server/domain/room.py), checked against it by tests/browser/test_folds.py.
// Pure: no DOM, no socket. An event at or below the state's seq (a duplicate, or one
// from before the snapshot) changes nothing; an erased or unreadable body moves seq only.

export const KIND = "room";
export const RECENT_MESSAGES = 50; // what a server snapshot keeps (RECENT_MESSAGES there)

export function fromSnapshot(snapshot, seq = 0) {
  return {
    room: snapshot.room,
    name: snapshot.name,
    topic: snapshot.topic,
    seq,
    present: new Map(snapshot.present.map((m) => [m.id, { id: m.id, name: m.name }])),
    messages: new Map(snapshot.messages.map((m) => [m.id, { ...m }])),
    message_count: snapshot.message_count,
  };
}

// Fold one event into state (in place). Returns what changed, for the view to redraw:
// {message}, {presence: true}, {header: true}, or null when nothing did.
export function apply(state, event) {
  if (event.seq <= state.seq) return null;
  state.seq = event.seq;
  const body = event.body;
  if (!body) return null;
  switch (body.type) {
    case "message_posted": {
      const message = {
        id: event.seq, author: body.author, author_name: body.author_name,
        text: body.text, ts: event.ts, edited_ts: null, deleted: false,
      };
      state.messages.set(message.id, message);
      state.message_count += 1;
      return { message };
    }
    case "message_edited": {
      const message = state.messages.get(body.message);
      if (!message || message.deleted) return null;
      message.text = body.text;
      message.edited_ts = event.ts;
      return { message };
    }
    case "message_deleted": {
      const message = state.messages.get(body.message);
      if (!message || message.deleted) return null;
      message.deleted = true;
      message.text = "";
      return { message };
    }
    case "member_joined":
      state.present.set(body.member, { id: body.member, name: body.name });
      return { presence: true };
    case "member_left":
      if (!state.present.delete(body.member)) return null;
      return { presence: true };
    case "members_changed": // several of the two above, coalesced by the server per tick
      for (const gone of body.left) state.present.delete(gone.member);
      for (const came of body.joined) state.present.set(came.member, { id: came.member, name: came.name });
      return { presence: true };
    case "room_created":
      state.name = body.name;
      state.topic = body.topic || "";
      return { header: true };
    default: // unreadable, or a kind this client does not know yet
      return null;
  }
}

export function fold(snapshot, seq, events) {
  const state = fromSnapshot(snapshot, seq);
  for (const event of events) apply(state, event);
  return state;
}

// A plain, ordered object to compare with the server's fold (normal_form in room.py):
// people by id, the latest `recent` messages by id. The view keeps older messages it
// paged in; the server keeps only the recent ones, so only those are compared.
export function normalForm(state, recent = RECENT_MESSAGES) {
  const byId = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const messages = [...state.messages.values()].sort((a, b) => a.id - b.id).slice(-recent);
  return {
    room: state.room, name: state.name, topic: state.topic, seq: state.seq,
    present: [...state.present.values()].sort((a, b) => byId(a.id, b.id))
      .map((m) => ({ id: m.id, name: m.name })),
    messages: messages.map((m) => ({
      id: m.id, author: m.author, author_name: m.author_name, text: m.text, ts: m.ts,
      edited_ts: m.edited_ts ?? null, deleted: Boolean(m.deleted),
    })),
    message_count: state.message_count,
  };
}
