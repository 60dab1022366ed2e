// The server's clock, as this browser can best tell it. Every hello carries the server's
// time (server_time_ms); the offset is that minus our own clock when it arrived, taken
// again on every (re)connect. Countdowns to server deadlines read serverNow(), so a
// browser whose clock is wrong still shows the time the server keeps.

let offsetMs = 0;

export function setServerTime(serverMs, receivedAt = Date.now()) {
  if (typeof serverMs === "number" && Number.isFinite(serverMs) && serverMs > 0) {
    offsetMs = serverMs - receivedAt;
  }
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
