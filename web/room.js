// A room as the client sees it: a fold of its snapshot and the events after it,
// the same fold the server keeps (server/domain/room.py).

export class RoomView {
  constructor(snapshot) {
    this.room = snapshot.room;
    this.name = snapshot.name;
    this.topic = snapshot.topic;
    this.present = new Map(snapshot.present.map((m) => [m.id, m]));
    this.messages = new Map(snapshot.messages.map((m) => [m.id, { ...m }]));
    this.hasOlder = snapshot.message_count > snapshot.messages.length;
  }

  oldestId() {
    let oldest = null;
    for (const id of this.messages.keys()) if (oldest === null || id < oldest) oldest = id;
    return oldest;
  }

  addOlder(messages, hasMore) {
    for (const m of messages) if (!this.messages.has(m.id)) this.messages.set(m.id, { ...m });
    this.hasOlder = hasMore;
  }

  // Fold one event; returns what changed: {message} or {presence: true} or null.
  apply(event) {
    const body = event.body;
    if (!body) return null;
    switch (body.type) {
      case "message_posted": {
        const message = {
          id: event.seq, author: body.author, author_name: body.author_name,
          text: body.text, ts: event.ts, edited_ts: null, deleted: false,
        };
        this.messages.set(message.id, message);
        return { message };
      }
      case "message_edited": {
        const message = this.messages.get(body.message);
        if (!message || message.deleted) return null;
        message.text = body.text;
        message.edited_ts = event.ts;
        return { message };
      }
      case "message_deleted": {
        const message = this.messages.get(body.message);
        if (!message) return null;
        message.deleted = true;
        message.text = "";
        return { message };
      }
      case "member_joined":
        this.present.set(body.member, { id: body.member, name: body.name });
        return { presence: true };
      case "member_left":
        this.present.delete(body.member);
        return { presence: true };
      case "members_changed": // several of the two above, coalesced by the server per tick
        for (const gone of body.left) this.present.delete(gone.member);
        for (const came of body.joined) this.present.set(came.member, { id: came.member, name: came.name });
        return { presence: true };
      case "room_created":
        this.name = body.name;
        this.topic = body.topic;
        return { header: true };
      default:
        return null;
    }
  }
}
