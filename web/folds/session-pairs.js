// The pair-up part of a session's fold (folds/session.js calls it): rounds of breakout
// groups, waiting and alone members, sitting out, help calls, host visits, broadcasts.
// The same fold as the server's (server/domain/session_pair_fold.py), checked against
// it by tests/browser/test_folds.py. Pure: no DOM, no socket. Maps keep insertion order
// as the server's dicts do (a call for help keeps its place when called again; a host's
// new visit goes last).

const copyHelp = (h) => ({ group: h.group, member: h.member, name: h.name, ts: h.ts });
const copyVisit = (v) => ({ member: v.member, name: v.name, group: v.group });
const copyBroadcast = (b) => ({ round: b.round, text: b.text, name: b.name, ts: b.ts, seq: b.seq || 0 });
const sortedSet = (members) => [...new Set(members)].sort();

// The pair-up fields of a snapshot (empty ones when the snapshot has none: an old server).
export function fromSnapshot(snapshot) {
  return {
    pair_round: snapshot.pair_round || 0,
    pairs_active: Boolean(snapshot.pairs_active),
    groups: (snapshot.groups || []).map((g) => ({ group: g.group, members: [...g.members] })),
    waiting: [...(snapshot.waiting || [])],
    alone: [...(snapshot.alone || [])],
    sitting_out: [...(snapshot.sitting_out || [])],
    help: new Map((snapshot.help || []).map((h) => [h.group, copyHelp(h)])),
    visits: new Map((snapshot.visits || []).map((v) => [v.member, copyVisit(v)])),
    broadcasts: (snapshot.broadcasts || []).map(copyBroadcast),
    host_joins: Boolean(snapshot.host_joins),
    paired: [...(snapshot.paired || [])],
  };
}

const setGroups = (state, groups) => {
  state.groups = groups.map((g) => ({ group: g.group, members: [...g.members] }))
    .sort((a, b) => a.group - b.group);
};

// Everyone back in the main room (the round's number, broadcasts and who was paired stay).
function backToMain(state) {
  state.pairs_active = false;
  state.groups = [];
  state.waiting = [];
  state.alone = [];
  state.help = new Map();
  state.visits = new Map();
}

// A segment began (or the session started): a running round is over and nobody sits out
// any more; an old stream's `pairs` field folds as a round of its own.
export function segmentChanged(state, oldPairs) {
  backToMain(state);
  state.sitting_out = [];
  if (!oldPairs || !oldPairs.length) return;
  state.pair_round += 1;
  state.pairs_active = true;
  state.host_joins = false;
  state.broadcasts = [];
  state.groups = oldPairs.map((members, i) => ({ group: i + 1, members: [...members] }));
  state.paired = sortedSet(oldPairs.flat());
}

export function sessionEnded(state) {
  backToMain(state);
  state.sitting_out = [];
}

const thisRound = (state, body) => state.pairs_active && body.round === state.pair_round;

// Fold one pair-up event into state. What changed ({pairs: true}, with `ended` for the
// end of a round, `said` for a takeaway), null when nothing did, undefined when the body
// is not a pair-up event.
export function apply(state, body, event) {
  switch (body.type) {
    case "pairs_made":
      state.pair_round = body.round;
      state.pairs_active = true;
      state.host_joins = Boolean(body.host_joins);
      setGroups(state, body.groups);
      state.waiting = [...(body.waiting || [])];
      state.alone = [];
      state.help = new Map();
      state.visits = new Map();
      state.broadcasts = [];
      state.paired = sortedSet(body.groups.flatMap((g) => g.members));
      return { pairs: true };
    case "pairs_changed": {
      if (!thisRound(state, body)) return null;
      setGroups(state, body.groups);
      state.waiting = [...(body.waiting || [])];
      state.alone = [...(body.alone || [])];
      state.paired = sortedSet([...state.paired, ...body.groups.flatMap((g) => g.members)]);
      const ids = new Set(state.groups.map((g) => g.group));
      for (const group of [...state.help.keys()]) if (!ids.has(group)) state.help.delete(group);
      for (const [host, v] of [...state.visits]) if (!ids.has(v.group)) state.visits.delete(host);
      return { pairs: true };
    }
    case "pairs_ended":
      if (body.round !== state.pair_round) return null;
      backToMain(state);
      return { pairs: true, ended: { round: body.round, members: [...state.paired] } };
    case "pairs_broadcast":
      if (!thisRound(state, body)) return null;
      state.broadcasts.push({ round: body.round, text: body.text, name: body.name, ts: event.ts, seq: event.seq });
      return { pairs: true };
    case "help_called":
      if (!thisRound(state, body)) return null;
      state.help.set(body.group, { group: body.group, member: body.member, name: body.name, ts: event.ts });
      return { pairs: true };
    case "help_cleared":
      if (!thisRound(state, body)) return null;
      state.help.delete(body.group);
      return { pairs: true };
    case "host_visited":
      if (!thisRound(state, body)) return null;
      state.visits.delete(body.member); // one visit at a time, in the order made
      state.visits.set(body.member, { member: body.member, name: body.name, group: body.group });
      return { pairs: true };
    case "host_left":
      if (!thisRound(state, body)) return null;
      state.visits.delete(body.member);
      return { pairs: true };
    case "sat_out":
      if (body.out && !state.sitting_out.includes(body.member)) state.sitting_out.push(body.member);
      else if (!body.out && state.sitting_out.includes(body.member)) {
        state.sitting_out = state.sitting_out.filter((m) => m !== body.member);
      } else return null;
      return { pairs: true };
    case "takeaway_shared": // the transcript's: the view shows it, the state keeps none
      return { said: { kind: "takeaway", text: body.text, name: body.name, ts: event.ts, seq: event.seq } };
    default:
      return undefined;
  }
}

// Words erased (words_erased): the broadcasts those events said leave the rooms. True
// when one did.
export function erased(state, seqs) {
  const gone = new Set(seqs);
  const kept = state.broadcasts.filter((b) => !gone.has(b.seq));
  if (kept.length === state.broadcasts.length) return false;
  state.broadcasts = kept;
  return true;
}

// The group a member is in in the running round, or null.
export function groupOf(state, member) {
  return state.groups.find((g) => g.members.includes(member)) || null;
}

// Pairs (not trios) a member left alone could join (blocks are private: the server
// refuses a blocked one and, without a group, picks the best pair).
export function joinable(state, member) {
  return state.groups.filter((g) => g.members.length === 2 && !g.members.includes(member));
}

// Whether a member in the main room may press "Rejoin pairs" / "Join a pair" (rejoin_pairs)
// in the running round: the server's rejoin_refusal (session_pair_moves.py) less what
// only the server knows (in the room, came to the session). `state` is the session's.
export function mayRejoin(state, member, runs) {
  return state.pairs_active && !groupOf(state, member) && !state.waiting.includes(member)
    && !state.alone.includes(member) && !state.sitting_out.includes(member)
    && !state.stage.has(member) && (!runs || state.paired.includes(member));
}

// The pair-up fields as the server's snapshot has them (snapshot_fields in session_pair_fold.py).
export function normalForm(state) {
  return {
    pair_round: state.pair_round,
    pairs_active: state.pairs_active,
    groups: state.groups.map((g) => ({ group: g.group, members: [...g.members] })),
    pairs: state.groups.map((g) => [...g.members]),
    waiting: [...state.waiting],
    alone: [...state.alone],
    sitting_out: [...state.sitting_out],
    help: [...state.help.values()].map(copyHelp),
    visits: [...state.visits.values()].map(copyVisit),
    broadcasts: state.broadcasts.map(copyBroadcast),
    host_joins: state.host_joins,
    paired: [...state.paired],
  };
}
