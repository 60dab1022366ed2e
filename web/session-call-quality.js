// A breakout call's connection quality, per partner, from RTCPeerConnection.getStats()
// every few seconds (session-call.js): received kbps, round-trip time and packet loss since
// the last reading, as "good", "fair" or "poor", on the partner's tile (its text, and
// data-quality / data-bytes / data-frames for styles and tests).

// `peers`: {pc, figure, quality, last}; `intervalMs`: the time since the last reading.
export async function measure(peers, intervalMs) {
  for (const peer of peers) {
    if (!peer.pc) continue;
    const now = { bytes: 0, frames: 0, lost: 0, packets: 0, rtt: null };
    let report;
    try {
      report = await peer.pc.getStats();
    } catch {
      continue; // closed meanwhile
    }
    report.forEach((r) => {
      if (r.type === "inbound-rtp") {
        now.bytes += r.bytesReceived || 0;
        now.lost += Math.max(0, r.packetsLost || 0);
        now.packets += r.packetsReceived || 0;
        if (r.kind === "video") now.frames += r.framesDecoded || 0;
      } else if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") {
        now.rtt = r.currentRoundTripTime ?? now.rtt;
      }
    });
    const before = peer.last || { bytes: 0, lost: 0, packets: 0 };
    peer.last = now;
    const kbps = Math.round(((now.bytes - before.bytes) * 8) / intervalMs);
    const got = now.packets - before.packets;
    const loss = got + now.lost - before.lost > 0 ? (now.lost - before.lost) / (got + now.lost - before.lost) : 0;
    const rtt = now.rtt === null ? null : Math.round(now.rtt * 1000);
    const word = peer.pc.connectionState !== "connected" ? "connecting"
      : loss > 0.08 || (rtt ?? 0) > 600 || got === 0 ? "poor" : loss > 0.02 || (rtt ?? 0) > 300 ? "fair" : "good";
    Object.assign(peer.figure.dataset, { quality: word, bytes: String(now.bytes), frames: String(now.frames) });
    peer.quality.textContent = word === "connecting" ? "Connecting…"
      : `Connection ${word}${rtt === null ? "" : ` · ${rtt} ms`} · ${kbps} kbps${loss ? ` · ${Math.round(loss * 100)}% lost` : ""}`;
  }
}
