// The server's clock, as this browser can best tell it. Every hello carries the server's
// time (server_time_ms); the offset is that minus our own clock when it arrived, taken
// again on every (re)connect, then refined by the round trips of heartbeats: the one the
// socket sends right after hello and five more over the seconds after ready (ClockSampler:
// the shortest round trip wins). Countdowns to server deadlines read serverNow(), so a
// browser whose clock is wrong still shows the time the server keeps.

let offsetMs = 0;
let bestRoundTripMs = Infinity; // of the sample the offset comes from (hello: unknown)

const usable = (ms) => typeof ms === "number" && Number.isFinite(ms) && ms > 0;

// hello's time: off by the one-way delay, so any round-trip sample after it is better.
export function setServerTime(serverMs, receivedAt = Date.now()) {
  if (usable(serverMs)) {
    offsetMs = serverMs - receivedAt;
    bestRoundTripMs = Infinity;
  }
}

// A heartbeat_ack's time, for a heartbeat sent at sentAt: the server read its clock
// somewhere within the round trip, so take the middle (off by at most half of it), and
// keep the sample with the shortest round trip since hello.
export function sampleServerTime(serverMs, sentAt, receivedAt = Date.now()) {
  const roundTrip = receivedAt - sentAt;
  if (!usable(serverMs) || !(roundTrip >= 0) || roundTrip > bestRoundTripMs) return;
  bestRoundTripMs = roundTrip;
  offsetMs = serverMs - (sentAt + receivedAt) / 2;
}

// Milliseconds to add to Date.now() to get the server's time.
export function clockOffset() {
  return offsetMs;
}

// The server's time now, in milliseconds since the Unix epoch.
export function serverNow() {
  return Date.now() + offsetMs;
}

// How long until a server deadline (ms since the epoch); never negative.
export function msUntil(deadlineMs) {
  return Math.max(0, deadlineMs - serverNow());
}

// Heartbeats after ready that sample the server's clock, this long after it: three close
// together, then two later, so a page too busy to read its first answers at once (a slow
// machine loading the app) still gets a round trip that tells the truth within a second.
const SAMPLES_AFTER_READY_MS = [0, 200, 400, 1500, 4000];
const MAX_UNANSWERED = 16; // heartbeat send times kept to match their acks

// A socket's heartbeats, matched to their acks (the server answers them in order): those
// sent to sample the clock (right after hello, and the ones after ready) feed
// sampleServerTime, which keeps the shortest round trip.
export class ClockSampler {
  constructor() {
    this.unanswered = []; // oldest first: {at, sample, last}
    this.timer = null;
    this.settled = false; // the last sample after ready is answered
  }

  // A new socket: nothing it sent is answered on it.
  reset() {
    this.stop();
    this.unanswered = [];
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  sent(at, sample, last) {
    this.unanswered.push({ at, sample, last });
    if (this.unanswered.length > MAX_UNANSWERED) this.unanswered.shift();
  }

  answered(serverMs) {
    const beat = this.unanswered.shift();
    if (beat && beat.sample) sampleServerTime(serverMs, beat.at);
    if (beat && beat.last) this.settled = true;
  }

  // Send the samples after ready, spaced so that one sent while the server was busy
  // answering identify, or a burst of other frames, does not decide alone. `beat(last)`
  // sends one; false: the socket is gone, stop.
  sampleAfterReady(beat) {
    this.stop();
    this.settled = false;
    let sample = 0;
    const next = () => {
      if (!beat(sample === SAMPLES_AFTER_READY_MS.length - 1)) return;
      sample += 1;
      if (sample < SAMPLES_AFTER_READY_MS.length) {
        this.timer = setTimeout(next, SAMPLES_AFTER_READY_MS[sample] - SAMPLES_AFTER_READY_MS[sample - 1]);
      }
    };
    next();
  }
}
