// A live session's state as a fold of its snapshot and the events after it: the same
// fold the server keeps (server/domain/session.py), checked against it by
// tests/browser/test_folds.py. Pure: no DOM, no socket. An event at or below the
// state's seq changes nothing; an erased or unreadable body moves seq only.
// The stream is also the transcript: chat, notes and captions pass through here as
// "said" changes for the view to show, but the fold keeps none of them.

export const KIND = "session";

const copyPrompts = (prompts) => Object.fromEntries(
  Object.entries(prompts || {}).map(([segment, p]) => [String(segment), { ...p }]),
);

export function fromSnapshot(snapshot, seq = 0) {
  return {
    session: snapshot.session,
    room: snapshot.room,
    title: snapshot.title,
    seq,
    phase: snapshot.phase,
    agenda: snapshot.agenda.map((s) => ({ ...s })),
    index: snapshot.index,
    deadline_ms: snapshot.deadline_ms ?? null,
    remaining_ms: snapshot.remaining_ms ?? null,
    stage: snapshot.stage.map((p) => ({ member: p.member, name: p.name })),
    hands: snapshot.hands.map((p) => ({ member: p.member, name: p.name })),
    questions: new Map(snapshot.questions.map((q) => [q.question, {
      ...q, voters: new Set(q.voters || []),
    }])),
    off_record: snapshot.off_record ? { ...snapshot.off_record } : null,
    keep_transcript: snapshot.keep_transcript,
    scribe: snapshot.scribe ?? null,
    attendees: new Map(snapshot.attendees.map((a) => [a.member, { ...a }])),
    case_prompts: copyPrompts(snapshot.case_prompts),
  };
}

const without = (list, member) => list.filter((p) => p.member !== member);

// Fold one event into state (in place). Returns what changed, for the view to redraw:
// {timer}, {agenda}, {stage}, {hands}, {board}, {record}, {people}, {prompts},
// {said: {kind, text, name, ts}}, {warned: "2m"|"30s"} (several at once), or null.
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
      state.agenda = body.agenda.map((s) => ({ ...s }));
      state.keep_transcript = body.keep_transcript;
      return { agenda: true, timer: true };
    case "agenda_edited":
      state.agenda = body.agenda.map((s) => ({ ...s }));
      state.index = Math.min(state.index, state.agenda.length - 1);
      return { agenda: true, timer: true };
    case "session_started":
      state.phase = "running";
      state.index = 0;
      state.deadline_ms = body.deadline_ms;
      state.remaining_ms = null;
      return { timer: true, agenda: true };
    case "segment_changed":
      state.index = body.index;
      state.deadline_ms = body.deadline_ms;
      state.remaining_ms = null;
      state.phase = "running";
      return { timer: true, agenda: true, prompts: true };
    case "segment_extended":
      if (state.phase === "paused") {
        state.remaining_ms = (state.remaining_ms ?? 0) + body.minutes * 60_000;
      } else {
        state.deadline_ms = body.deadline_ms;
      }
      return { timer: true };
    case "session_paused":
      state.phase = "paused";
      state.remaining_ms = body.remaining_ms;
      state.deadline_ms = null;
      return { timer: true };
    case "session_resumed":
      state.phase = "running";
      state.deadline_ms = body.deadline_ms;
      state.remaining_ms = null;
      return { timer: true };
    case "segment_warned":
      return body.index === state.index ? { warned: body.left } : null;
    case "session_ended":
      state.phase = "ended";
      state.deadline_ms = null;
      state.remaining_ms = null;
      state.off_record = null;
      state.hands = [];
      return { timer: true, agenda: true, record: true, hands: true };
    case "stage_changed":
      state.stage = without(state.stage, body.member);
      if (body.on) {
        state.stage.push({ member: body.member, name: body.name });
        state.hands = without(state.hands, body.member);
      }
      return { stage: true, hands: true };
    case "hand_raised":
      if (state.hands.some((p) => p.member === body.member)) return null;
      state.hands.push({ member: body.member, name: body.name });
      return { hands: true };
    case "hand_lowered":
      if (!state.hands.some((p) => p.member === body.member)) return null;
      state.hands = without(state.hands, body.member);
      return { hands: true };
    case "question_asked":
      state.questions.set(body.question, {
        question: body.question, text: body.text, anonymous: body.anonymous,
        asker: body.anonymous ? null : body.asker ?? null,
        asker_name: body.anonymous ? "" : body.asker_name || "",
        votes: 0, voters: new Set(), pinned: false, state: "open", ts: event.ts,
      });
      return { board: true };
    case "question_edited":
    case "question_withdrawn":
    case "question_upvoted":
    case "question_unvoted":
    case "question_pinned":
    case "question_answered":
    case "question_dismissed":
      return applyToQuestion(state, body) ? { board: true } : null;
    case "off_record_started":
      state.off_record = { by: event.actor ?? null, since_ms: event.ts };
      return { record: true };
    case "off_record_ended":
      state.off_record = null;
      return { record: true };
    case "scribe_named":
      state.scribe = body.member;
      return { people: true };
    case "attendee_arrived":
      if (state.attendees.has(body.member)) return null;
      state.attendees.set(body.member, { member: body.member, name: body.name, guest: body.guest });
      return { people: true };
    case "case_prompts_set":
      state.case_prompts[String(body.segment)] = {
        situation: body.situation, tried: body.tried, question: body.question,
      };
      return { prompts: true };
    case "chat_said":
      return { said: { kind: "chat", text: body.text, name: body.name, ts: event.ts, seq: event.seq } };
    case "note_added":
      return { said: { kind: "note", text: body.text, name: body.name || "", ts: event.ts, seq: event.seq } };
    case "caption_added":
      return { said: { kind: "caption", text: body.text, name: body.speaker || "", ts: event.ts, seq: event.seq } };
    default: // unreadable, or a kind this client does not know yet
      return null;
  }
}

function applyToQuestion(state, body) {
  const q = state.questions.get(body.question);
  if (!q) return false;
  switch (body.type) {
    case "question_edited": q.text = body.text; break;
    case "question_withdrawn": q.state = "withdrawn"; q.pinned = false; break;
    case "question_upvoted":
      if (q.voters.has(body.member)) return false;
      q.voters.add(body.member);
      q.votes = q.voters.size;
      break;
    case "question_unvoted":
      if (!q.voters.delete(body.member)) return false;
      q.votes = q.voters.size;
      break;
    case "question_pinned": q.pinned = body.pinned; break;
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

// The board as shown: pinned first, then open questions by votes (most first, then the
// earlier asked), then answered ones; withdrawn and dismissed ones are not shown.
export function board(state) {
  const rank = (q) => (q.pinned ? 0 : q.state === "open" ? 1 : 2);
  return [...state.questions.values()]
    .filter((q) => q.state === "open" || q.state === "answered")
    .sort((a, b) => rank(a) - rank(b) || b.votes - a.votes || a.question - b.question);
}

// A plain, ordered object to compare with the server's fold (normal_form in session.py).
export function normalForm(state) {
  const byKey = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    session: state.session, room: state.room, title: state.title, seq: state.seq,
    phase: state.phase, agenda: state.agenda.map((s) => ({
      kind: s.kind, title: s.title, minutes: s.minutes, auto_advance: Boolean(s.auto_advance),
      rounds: s.rounds || 0, round_minutes: s.round_minutes || 0,
    })),
    index: state.index, deadline_ms: state.deadline_ms, remaining_ms: state.remaining_ms,
    stage: state.stage.map((p) => ({ member: p.member, name: p.name })),
    hands: state.hands.map((p) => ({ member: p.member, name: p.name })),
    questions: [...state.questions.values()].sort((a, b) => a.question - b.question).map((q) => ({
      question: q.question, text: q.text, anonymous: q.anonymous, asker: q.asker ?? null,
      asker_name: q.asker_name || "", votes: q.votes, voters: [...q.voters].sort(byKey),
      pinned: q.pinned, state: q.state,
    })),
    off_record: state.off_record ? { by: state.off_record.by, since_ms: state.off_record.since_ms } : null,
    keep_transcript: state.keep_transcript, scribe: state.scribe,
    attendees: [...state.attendees.values()].sort((a, b) => byKey(a.member, b.member))
      .map((a) => ({ member: a.member, name: a.name, guest: Boolean(a.guest) })),
    case_prompts: Object.fromEntries(Object.keys(state.case_prompts).sort((a, b) => Number(a) - Number(b))
      .map((k) => [k, { ...state.case_prompts[k] }])),
  };
}
