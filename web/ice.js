// The STUN/TURN servers this deployment configured (GET /api/ice-servers), for every
// RTCPeerConnection: breakout calls (session-call.js) and stage video (session-media.js).
// TURN credentials expire, so the list is fetched again a minute before they do.

import { get } from "./api.js";

let cached = null;

export async function iceServers() {
  if (cached && cached.until > Date.now() / 1000 + 60) return cached.list;
  try {
    const answer = await get("/api/ice-servers");
    cached = { list: answer.ice_servers || [], until: answer.expires_s || Infinity };
  } catch {
    cached = { list: [], until: 0 }; // loopback and LAN peers still connect without any
  }
  return cached.list;
}
