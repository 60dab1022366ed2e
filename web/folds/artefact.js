// An artefact's state as a fold of its snapshot and the events after it: the same fold
// the server keeps (server/domain/artefact.py), checked against it by
// tests/browser/test_artefact_fold.py. Pure: no DOM, no socket. An event at or below the
// state's seq changes nothing; an erased or unreadable body moves seq only. body_html is
// rendered by the server only: a revision sets it to null, and the view fetches it again.

export const KIND = "artefact";

const person = (p) => ({ member: p.member, name: p.name });

export function fromSnapshot(snapshot, seq = 0) {
  const v = snapshot.view;
  return {
    artefact: v.artefact, community: v.community, seq,
    kind: v.kind, title: v.title, body: v.body, body_html: v.body_html, tags: [...v.tags],
    excerpts: v.excerpts.map((e) => ({ ...e, seqs: [...e.seqs] })), revision: v.revision,
    author: v.authors.length ? person(v.authors[0]) : null,
    credited: new Map(v.contributors.map((p) => [p.member, person(p)])),
    created_ms: v.created_ms, updated_ms: v.updated_ms,
    endorsements: new Map(v.endorsements.map((p) => [p.member, person(p)])),
    comments: v.comments.map((c) => ({ comment: c.comment, by: person(c.by), text: c.text, ts: c.ts })),
    suggestions: new Map(v.suggestions.map((s) => [s.suggestion, { ...s, by: person(s.by) }])),
  };
}

function revise(state, body, ts) {
  Object.assign(state, {
    kind: body.kind, title: body.title, body: body.body, body_html: null,
    tags: [...(body.tags || [])], excerpts: (body.excerpts || []).map((e) => ({ ...e, seqs: [...(e.seqs || [])] })),
    updated_ms: ts,
  });
}

// Fold one event into state (in place). Returns what changed, for the view to redraw:
// {artefact}, {comments}, {endorsements}, {suggestions}, or null when nothing did.
export function apply(state, event) {
  if (event.seq <= state.seq) return null;
  state.seq = event.seq;
  const body = event.body;
  if (!body) return null;
  if (body.type !== "artefact_created" && state.author === null) return null;
  switch (body.type) {
    case "artefact_created":
      state.community = body.community;
      state.author = { member: body.author, name: body.author_name };
      state.revision = 1;
      state.created_ms = event.ts;
      revise(state, body, event.ts);
      return { artefact: true };
    case "artefact_revised": {
      let credited = { member: body.by, name: body.by_name };
      if (body.suggestion !== null && body.suggestion !== undefined) {
        const found = state.suggestions.get(body.suggestion);
        credited = found && found.credit ? found.by : null;
      }
      if (credited && (!state.author || credited.member !== state.author.member)
          && !state.credited.has(credited.member)) {
        state.credited.set(credited.member, person(credited));
      }
      state.revision = body.revision;
      revise(state, body, event.ts);
      return { artefact: true };
    }
    case "artefact_commented":
      state.comments.push({ comment: body.comment, by: { member: body.member, name: body.name },
        text: body.text, ts: event.ts });
      return { comments: true };
    case "artefact_endorsed":
      state.endorsements.set(body.member, { member: body.member, name: body.name });
      return { endorsements: true };
    case "artefact_unendorsed":
      return state.endorsements.delete(body.member) ? { endorsements: true } : null;
    case "revision_suggested":
      state.suggestions.set(body.suggestion, {
        suggestion: body.suggestion, ts: event.ts, by: { member: body.member, name: body.name },
        title: body.title, body: body.body, tags: [...(body.tags || [])], reason: body.reason,
        sources: [...(body.sources || [])], credit: body.credit !== false,
        on_revision: body.on_revision, status: "open", decided_by: null, decision: "",
        confirmed: [...(body.confirmed || [])],
      });
      return { suggestions: true };
    case "suggestion_accepted":
    case "suggestion_declined": {
      const found = state.suggestions.get(body.suggestion);
      if (!found) return null;
      found.status = body.type === "suggestion_accepted" ? "accepted" : "declined";
      found.decided_by = body.by;
      found.decision = body.reason || "";
      return { suggestions: true };
    }
    default: // unreadable, or a kind this client does not know yet
      return null;
  }
}

export function fold(snapshot, seq, events) {
  const state = fromSnapshot(snapshot, seq);
  for (const event of events) apply(state, event);
  return state;
}

// A plain, ordered object to compare with the server's fold (normal_form in artefact.py).
export function normalForm(state) {
  const byMember = (a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0);
  return {
    artefact: state.artefact, community: state.community, kind: state.kind, title: state.title,
    body: state.body, tags: state.tags,
    excerpts: state.excerpts.map((e) => ({ stream: e.stream, from_seq: e.from_seq, to_seq: e.to_seq, seqs: e.seqs })),
    revision: state.revision, authors: state.author ? [state.author] : [],
    contributors: [...state.credited.values()],
    created_ms: state.created_ms, updated_ms: state.updated_ms,
    endorsements: [...state.endorsements.values()].sort(byMember),
    comments: state.comments.map((c) => ({ comment: c.comment, by: c.by, text: c.text, ts: c.ts })),
    suggestions: [...state.suggestions.values()].sort((a, b) => a.suggestion - b.suggestion)
      .map((s) => ({
        suggestion: s.suggestion, ts: s.ts, by: s.by, title: s.title, body: s.body, tags: s.tags,
        reason: s.reason, sources: s.sources, credit: s.credit, on_revision: s.on_revision,
        status: s.status, decided_by: s.decided_by, decision: s.decision, confirmed: s.confirmed,
      })),
    seq: state.seq,
  };
}
