// Every stream kind the browser folds, by name: the one table from a stream's kind to its
// fold module (the server's registry of kinds is server/streams.py). A stream is named
// `<kind>:<id>`; each module exports KIND, fromSnapshot, apply, fold and normalForm.
// A new kind is a new module and a line here; views dispatch on the kind through this.

import * as artefact from "./artefact.js";
import * as community from "./community.js";
import * as room from "./room.js";
import * as session from "./session.js";

export const FOLDS = Object.freeze(Object.fromEntries(
  [community, room, session, artefact].map((m) => [m.KIND, m])));

// The kind of a stream name ("room" for "room:lobby"); null if it names none.
export function kindOf(stream) {
  const colon = stream.indexOf(":");
  return colon > 0 ? stream.slice(0, colon) : null;
}

// The fold module of a stream's kind (or of a snapshot's kind); null for kinds only
// replayed (the audit log) or unknown to this client.
export function foldOf(stream) {
  return FOLDS[kindOf(stream)] || null;
}

export function foldOfKind(kind) {
  return FOLDS[kind] || null;
}

// The name of a stream of a folded kind: streamOf("room", "lobby") is "room:lobby".
export function streamOf(kind, id) {
  if (!FOLDS[kind]) throw new Error(`no stream kind ${kind}`);
  return `${kind}:${id}`;
}
