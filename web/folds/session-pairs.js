// The pair-up part of a session's fold (folds/session.js calls it): rounds of breakout
// groups, waiting and alone members, sitting out, help calls, host visits, broadcasts.
// The same fold as the server's (server/domain/session_pairs.py), checked against it by
// tests/browser/test_folds.py. Pure: no DOM, no socket.

const copyGroup = (g) => ({ group: g.group, members: [...g.members] });
const copyHelp = (h) => ({ group: h.group, member: h.member, name: h.name, ts: h.ts });
const copyBroadcast = (b) => ({ round: b.round, text: b.text, name: b.name, ts: b.ts });

// The pair-up fields of a snapshot (empty ones when the snapshot has none: an old server).
export function fromSnapshot(snapshot) {
  return {
    pair_round: snapshot.pair_round || 0,
    groups: (snapshot.groups || []).map(copyGroup),
    pairs_active: Boolean(snapshot.pairs_active),
    waiting: [...(snapshot.waiting || [])],
    alone: [...(snapshot.alone || [])],
    sitting_out: [...(snapshot.sitting_out || [])],
    help: (snapshot.help || []).map(copyHelp),
    visits: new Map((snapshot.visits || []).map((v) => [v.member, v.group])),
    broadcasts: (snapshot.broadcasts || []).map(copyBroadcast),
    host_joins: Boolean(snapshot.host_joins),
  };
}

// Everyone back in the main room; the round number stays.
export function endRound(state) {
  state.groups = [];
  state.pairs_active = false;
  state.waiting = [];
  state.alone = [];
  state.help = [];
  state.visits = new Map();
  state.broadcasts = [];
  state.host_joins = false;
}

// The old way (a segment's start drew the pairs): a round with no breakout deadline of its own.
export function fromSegmentPairs(state, pairs) {
  endRound(state);
  state.sitting_out = [];
  if (!pairs.length) return;
  state.pair_round += 1;
  state.groups = pairs.map((members, i) => ({ group: i + 1, members: [...members] }));
  state.pairs_active = true;
}

const inRound = (state, body) => state.pairs_active && body.round === state.pair_round;

// Fold one pair-up event into state; what changed ({pairs: true, ended?, said?}) or null.
export function apply(state, body, event) {
  switch (body.type) {
    case "pairs_made":
      state.pair_round = body.round;
      state.groups = body.groups.map(copyGroup);
      state.pairs_active = true;
      state.waiting = [...body.waiting];
      state.alone = [];
      state.sitting_out = [...body.sitting_out];
      state.help = [];
      state.visits = new Map();
      state.broadcasts = [];
      state.host_joins = Boolean(body.host_joins);
      return { pairs: true };
    case "pairs_changed": {
      if (!inRound(state, body)) return null;
      state.groups = body.groups.map(copyGroup);
      state.waiting = [...body.waiting];
      const grouped = new Set(state.groups.flatMap((g) => g.members));
      state.alone = state.alone.filter((m) => m !== body.member && !grouped.has(m));
      const ids = new Set(state.groups.map((g) => g.group));
      state.help = state.help.filter((h) => ids.has(h.group));
      for (const [host, group] of state.visits) if (!ids.has(group)) state.visits.delete(host);
      return { pairs: true };
    }
    case "pairs_ended": {
      if (!inRound(state, body)) return null;
      const members = state.groups.flatMap((g) => g.members);
      endRound(state);
      return { pairs: true, ended: { round: body.round, members } };
    }
    case "pairs_broadcast":
      if (!inRound(state, body)) return null;
      state.broadcasts.push({ round: body.round, text: body.text, name: body.name, ts: event.ts });
      return { pairs: true };
    case "help_called":
      if (!inRound(state, body) || state.help.some((h) => h.group === body.group)) return null;
      state.help.push({ group: body.group, member: body.member, name: body.name, ts: event.ts });
      return { pairs: true, help: { group: body.group, name: body.name } };
    case "help_cleared":
      if (!inRound(state, body)) return null;
      state.help = state.help.filter((h) => h.group !== body.group);
      return { pairs: true };
    case "host_visited":
      if (!inRound(state, body)) return null;
      state.visits.set(body.member, body.group);
      state.help = state.help.filter((h) => h.group !== body.group);
      return { pairs: true };
    case "host_left":
      if (!inRound(state, body)) return null;
      state.visits.delete(body.member);
      return { pairs: true };
    case "sat_out":
      state.sitting_out = state.sitting_out.filter((m) => m !== body.member);
      if (body.out) state.sitting_out.push(body.member);
      return { pairs: true };
    case "takeaway_shared":
      return { said: { kind: "takeaway", text: body.text, name: body.name, ts: event.ts, seq: event.seq } };
    default:
      return undefined; // not a pair-up event
  }
}

// Pairs (not trios) a member left alone could join, as the server offers them (blocks,
// which are private, aside: the server refuses a blocked one).
export function joinable(state, member) {
  return state.groups.filter((g) => g.members.length === 2 && !g.members.includes(member));
}

// The pair-up fields as the server's snapshot has them (normal_form in session.py).
export function normalForm(state) {
  return {
    pair_round: state.pair_round,
    groups: state.groups.map(copyGroup),
    pairs_active: state.pairs_active,
    waiting: [...state.waiting],
    alone: [...state.alone],
    sitting_out: [...state.sitting_out],
    help: state.help.map(copyHelp),
    visits: [...state.visits].map(([member, group]) => ({ member, group })),
    broadcasts: state.broadcasts.map(copyBroadcast),
    host_joins: state.host_joins,
  };
}
