// A live session's state as a fold of its snapshot and the events after it: the same
// fold the server keeps (server/domain/session.py), checked against it by
// tests/browser/test_folds.py. Pure: no DOM, no socket. An event at or below the
// state's seq changes nothing; an erased or unreadable body moves seq only.
// The stream is also the transcript: chat, notes and captions pass through here as
// "said" changes for the view to show, but the fold keeps none of them.

import * as pairs from "./session-pairs.js";

export const KIND = "session";

const person = (p) => ({ member: p.member, name: p.name });
const copyQuestion = (q) => ({
  question: q.question, text: q.text, anonymous: q.anonymous, asker: q.asker ?? null,
  asker_name: q.asker_name || "", votes: q.votes, voters: [...(q.voters || [])],
  pinned: Boolean(q.pinned), state: q.state, owner_key: q.owner_key || "", ts: q.ts || 0,
});
const copyPrompts = (c) => ({ segment: c.segment, situation: c.situation, tried: c.tried, question: c.question });

export function fromSnapshot(snapshot, seq = 0) {
  return {
    session: snapshot.session,
    room: snapshot.room,
    community: snapshot.community || "",
    title: snapshot.title,
    seq,
    phase: snapshot.phase,
    agenda: snapshot.agenda.map((s) => ({ ...s })),
    index: snapshot.index,
    round: snapshot.round || 0,
    deadline_ms: snapshot.deadline_ms ?? null,
    remaining_ms: snapshot.remaining_ms ?? null,
    // Maps keep insertion order, as the server's dicts do: the stage in the order people
    // came up, the hands in the order raised (the queue), attendees by first arrival.
    stage: new Map(snapshot.stage.map((p) => [p.member, p.name])),
    hands: new Map(snapshot.hands.map((p) => [p.member, p.name])),
    questions: new Map(snapshot.questions.map((q) => [q.question, copyQuestion(q)])),
    // The highest question number given, erased ones included (an old snapshot's 0: the
    // highest number on the board stands), so a number is never given twice.
    asked: Math.max(snapshot.asked || 0, ...snapshot.questions.map((q) => q.question)),
    off_record: snapshot.off_record ? { by: snapshot.off_record.by ?? null, since_ms: snapshot.off_record.since_ms } : null,
    keep_transcript: snapshot.keep_transcript,
    scribe: snapshot.scribe ? person(snapshot.scribe) : null,
    attendees: new Map(snapshot.attendees.map((a) => [a.member, { member: a.member, name: a.name, guest: Boolean(a.guest) }])),
    case_prompts: new Map((snapshot.case_prompts || []).map((c) => [c.segment, copyPrompts(c)])),
    warned: new Set(snapshot.warned || []),
    ...pairs.fromSnapshot(snapshot), // pair_round, groups… (snapshot.pairs: the groups' members)
    started_ms: snapshot.started_ms ?? null,
    ended_ms: snapshot.ended_ms ?? null,
  };
}

// How many timed rounds of peer advice a segment has (round_count in session_events.py).
export function roundCount(segment) {
  if (!segment || segment.kind !== "case" || !(segment.round_minutes > 0)) return 0;
  return segment.rounds || 0;
}

function newDeadline(state, deadlineMs) {
  state.deadline_ms = deadlineMs;
  state.remaining_ms = null;
  state.warned = new Set();
}

// Fold one event into state (in place). Returns what changed, for the view to redraw:
// {timer, agenda, stage, hands, board, record, people, prompts, pairs} flags,
// {warned: "2m"|"1m"|"30s"}, {ended: {round, members}} when a pair-up round ends,
// {said: {kind, text, name, ts, seq}} for chat, notes, captions and takeaways,
// {erased: [seq…]} for words erased (with the board, prompts and pairs redrawn), or null.
export function apply(state, event) {
  if (event.seq <= state.seq) return null;
  state.seq = event.seq;
  const body = event.body;
  if (!body) return null;
  switch (body.type) {
    case "session_opened":
      state.session = body.session;
      state.room = body.room;
      state.title = body.title;
      state.community = body.community || "";
      state.agenda = body.agenda.map((s) => ({ ...s }));
      state.keep_transcript = body.keep_transcript;
      return { agenda: true, timer: true };
    case "agenda_edited":
      state.agenda = body.agenda.map((s) => ({ ...s }));
      state.index = Math.min(state.index, state.agenda.length - 1);
      state.round = Math.min(state.round, roundCount(state.agenda[state.index]));
      return { agenda: true, timer: true, prompts: true };
    case "session_started":
      state.phase = "running";
      state.index = 0;
      state.round = 0;
      state.started_ms = event.ts;
      pairs.segmentChanged(state, body.pairs);
      newDeadline(state, body.deadline_ms);
      return { timer: true, agenda: true, prompts: true, pairs: true };
    case "segment_changed":
      state.phase = "running";
      state.index = body.index;
      state.round = 0;
      pairs.segmentChanged(state, body.pairs);
      newDeadline(state, body.deadline_ms);
      return { timer: true, agenda: true, prompts: true, pairs: true };
    case "case_round_started":
      if (state.phase !== "running" || body.segment !== state.index) return null;
      state.round = body.round;
      newDeadline(state, body.deadline_ms);
      return { timer: true, agenda: true };
    case "segment_extended":
      newDeadline(state, body.deadline_ms);
      return { timer: true };
    case "session_paused":
      state.phase = "paused";
      state.deadline_ms = null;
      state.remaining_ms = body.remaining_ms;
      return { timer: true };
    case "session_resumed":
      state.phase = "running";
      newDeadline(state, body.deadline_ms);
      return { timer: true };
    case "segment_warned":
      if (body.index !== state.index || (body.round || 0) !== state.round) return null;
      state.warned.add(body.left);
      return { warned: body.left };
    case "session_ended":
      state.phase = "ended";
      state.deadline_ms = null;
      state.remaining_ms = null;
      state.ended_ms = event.ts;
      state.hands.clear();
      state.off_record = null;
      pairs.sessionEnded(state);
      return { timer: true, agenda: true, record: true, hands: true, stage: true, board: true, prompts: true, pairs: true };
    case "stage_changed":
      if (body.on) {
        state.stage.set(body.member, body.name);
        state.hands.delete(body.member);
      } else {
        state.stage.delete(body.member);
      }
      return { stage: true, hands: true, prompts: true };
    case "hand_raised":
      if (state.hands.has(body.member)) return null;
      state.hands.set(body.member, body.name);
      return { hands: true };
    case "hand_lowered":
      return state.hands.delete(body.member) ? { hands: true } : null;
    case "question_asked": {
      // Its own number (the server stamps asked + 1), unless an old stream gave that one
      // already, then the next (question_number in session_erasure.py).
      const number = body.question > state.asked ? body.question : state.asked + 1;
      state.asked = number;
      state.questions.set(number, {
        question: number, text: body.text, anonymous: Boolean(body.anonymous),
        asker: body.anonymous ? null : body.asker ?? null,
        asker_name: body.anonymous ? "" : body.asker_name || "",
        votes: 0, voters: [], pinned: false, state: "open", owner_key: body.owner_key || "", ts: event.ts,
      });
      return { board: true, asked: number };
    }
    case "question_edited":
    case "question_withdrawn":
    case "question_upvoted":
    case "question_unvoted":
    case "question_pinned":
    case "question_answered":
    case "question_dismissed":
      return applyToQuestion(state.questions.get(body.question), body) ? { board: true } : null;
    case "off_record_started":
      state.off_record = { by: event.actor ?? null, since_ms: event.ts };
      return { record: true };
    case "off_record_ended":
      state.off_record = null;
      return { record: true };
    case "scribe_named":
      state.scribe = person(body);
      return { people: true };
    case "attendee_arrived":
      if (state.attendees.has(body.member)) return null;
      state.attendees.set(body.member, { member: body.member, name: body.name, guest: Boolean(body.guest) });
      return { people: true };
    case "case_prompts_set":
      state.case_prompts.set(body.segment, copyPrompts(body));
      return { prompts: true };
    case "words_erased": { // erased for privacy: what those words held leaves the state
      for (const number of body.questions || []) {
        state.questions.delete(number);
        state.asked = Math.max(state.asked, number);
      }
      for (const segment of body.case_segments || []) state.case_prompts.delete(segment);
      pairs.erased(state, body.seqs || []);
      return { board: true, prompts: true, pairs: true, erased: [...(body.seqs || [])] };
    }
    // Chat, notes and captions are the transcript: the view shows them, the state keeps none.
    case "chat_said":
      return { said: { kind: "chat", text: body.text, name: body.name, ts: event.ts, seq: event.seq } };
    case "note_added":
      return { said: { kind: "note", text: body.text, name: body.name || "", ts: event.ts, seq: event.seq } };
    case "caption_added":
      return { said: { kind: "caption", text: body.text, name: body.speaker || "", ts: event.ts, seq: event.seq } };
    default: { // a pair-up event (folds/session-pairs.js), unreadable, or a kind this client does not know yet
      const change = pairs.apply(state, body, event);
      return change === undefined ? null : change;
    }
  }
}

function applyToQuestion(q, body) {
  if (!q) return false;
  switch (body.type) {
    case "question_upvoted":
      if (q.voters.includes(body.member)) return false;
      q.voters.push(body.member);
      q.votes = q.voters.length;
      return true;
    case "question_unvoted":
      if (!q.voters.includes(body.member)) return false;
      q.voters = q.voters.filter((m) => m !== body.member);
      q.votes = q.voters.length;
      return true;
    default:
      break;
  }
  if (q.state !== "open") return false; // settled questions change no more
  switch (body.type) {
    case "question_edited": q.text = body.text; break;
    case "question_pinned": q.pinned = body.pinned; break;
    case "question_withdrawn": q.state = "withdrawn"; q.pinned = false; break;
    case "question_answered": q.state = "answered"; q.pinned = false; break;
    case "question_dismissed": q.state = "dismissed"; q.pinned = false; break;
    default: return false;
  }
  return true;
}

export function fold(snapshot, seq, events) {
  const state = fromSnapshot(snapshot, seq);
  for (const event of events) apply(state, event);
  return state;
}

// The board as shown (board_order in session.py): open questions first, pinned before
// unpinned, most votes first, then in the order asked. Withdrawn and dismissed ones are
// not shown; answered ones stay, after the open ones.
export function board(state) {
  return [...state.questions.values()]
    .filter((q) => q.state === "open" || q.state === "answered")
    .sort((a, b) => (a.state !== "open") - (b.state !== "open") || b.pinned - a.pinned
      || b.votes - a.votes || a.question - b.question);
}

export const stage = (state) => [...state.stage].map(([member, name]) => ({ member, name }));
export const hands = (state) => [...state.hands].map(([member, name]) => ({ member, name }));

// The state as the server's snapshot would be, plus seq (normal_form in session.py):
// what tests/browser/test_folds.py compares field by field.
export function normalForm(state) {
  return {
    kind: KIND, session: state.session, room: state.room, title: state.title, phase: state.phase,
    agenda: state.agenda.map((s) => ({
      kind: s.kind, title: s.title, minutes: s.minutes, auto_advance: Boolean(s.auto_advance),
      rounds: s.rounds || 0, round_minutes: s.round_minutes || 0,
    })),
    index: state.index, deadline_ms: state.deadline_ms, remaining_ms: state.remaining_ms,
    stage: stage(state), hands: hands(state),
    questions: [...state.questions.values()].map(copyQuestion),
    off_record: state.off_record ? { by: state.off_record.by, since_ms: state.off_record.since_ms } : null,
    keep_transcript: state.keep_transcript,
    scribe: state.scribe ? person(state.scribe) : null,
    attendees: [...state.attendees.values()].map((a) => ({ member: a.member, name: a.name, guest: a.guest })),
    case_prompts: [...state.case_prompts.keys()].sort((a, b) => a - b).map((k) => copyPrompts(state.case_prompts.get(k))),
    warned: [...state.warned].sort(),
    community: state.community, started_ms: state.started_ms, ended_ms: state.ended_ms,
    round: state.round, asked: state.asked,
    ...pairs.normalForm(state),
    seq: state.seq,
  };
}
