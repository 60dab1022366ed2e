// The server's clock, as this browser can best tell it. Every hello carries the server's
// time (server_time_ms); the offset is that minus our own clock when it arrived, taken
// again on every (re)connect, then refined by the round trips of heartbeats: the one the
// socket sends right after hello and a few more right after ready (the shortest round
// trip wins; the offset is then kept for the connection). Countdowns to server deadlines read serverNow(), so a
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
