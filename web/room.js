// A room as the client sees it: the room fold (folds/room.js, the same fold the server
// keeps) plus what only the view needs: older messages paged in, and whether more exist.

import { FOLDS } from "./folds/index.js";

const { apply, fromSnapshot } = FOLDS.room;

export class RoomView {
  constructor(snapshot, seq = 0) {
    Object.assign(this, fromSnapshot(snapshot, seq));
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

  // Fold one event; returns what changed: {message}, {presence: true}, {header: true} or null.
  apply(event) {
    return apply(this, event);
  }
}
