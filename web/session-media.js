// Room-wide audio/video of a live session, through Practica's proxy of the Janus SFU
// (README "Room-wide video"): people on stage publish camera, microphone or screen;
// every other attendee receives them. Low-bandwidth mode asks for audio only.
// Connection quality comes from getStats(). Signalling: complete SDP (no trickle) over
// /api/sessions/{id}/media...; media flows between this page and Janus.

import { api, get } from "./api.js";
import { $, el } from "./dom.js";
import { iceServers } from "./ice.js";

const POLL_MS = 1500;
const FAST_POLL_MS = 300; // for a while after a stage change: a new publisher shows sooner
const FAST_FOR_MS = 20000;
const STATS_MS = 2000;

let ctx = null;
const media = {
  session: null,
  available: null,
  timer: null,
  fastUntil: 0,
  generation: 0, // bumped when the session shown changes: an old poll loop ends
  statsTimer: null,
  publishing: null, // {pc, stream, camera, screen}
  starting: false,
  subs: new Map(), // feed -> {name, subscription, pc, video, figure, member}
  low: false,
  wasLive: false, // published and not stopped by this person: leaving the stage is news
  last: new Map(), // pc -> {bytes, at}
};

// Where h-p2p's ICE configuration lands (settings → page); none on loopback.

// Diagnostics (the connection-quality figures come from these; tests read them too).
window.practicaMedia = {
  peerConnections: () => [...media.subs.values()].map((e) => e.pc).filter(Boolean)
    .concat(media.publishing ? [media.publishing.pc] : []),
};

export function init(context) {
  ctx = context; // { state, me }
  $("media-publish").addEventListener("click", () => (media.publishing ? unpublish() : publish()));
  $("media-camera").addEventListener("click", () => toggle("video", $("media-camera"), "Camera"));
  $("media-mic").addEventListener("click", () => toggle("audio", $("media-mic"), "Microphone"));
  $("media-screen").addEventListener("click", shareScreen);
  $("media-low").addEventListener("change", (e) => setLow(e.target.checked));
}

// The session shown changed (or closed: id null): drop everything of the old one.
export function show(id) {
  if (media.session === id) return;
  stopAll();
  media.session = id;
  if (!id) return;
  media.statsTimer = setInterval(quality, STATS_MS);
  poll();
}

// Look at the room's publishers now and again: often just after the stage changed.
async function poll() {
  const generation = media.generation;
  await refresh();
  if (media.generation !== generation || !media.session) return;
  const fast = performance.now() < media.fastUntil;
  media.timer = setTimeout(poll, fast ? FAST_POLL_MS : POLL_MS);
}

// The stage changed: maybe we may publish now, or must stop.
export function stageChanged() {
  const s = ctx.state();
  if (!s) return;
  if (media.wasLive && !s.stage.has(ctx.me())) { // Janus may have hung up on us first
    media.wasLive = false;
    stopPublishing("");
    notice("You left the stage: your camera and microphone are off.");
  }
  media.fastUntil = performance.now() + FAST_FOR_MS;
  renderControls();
}

function stopAll() {
  media.generation += 1;
  clearTimeout(media.timer);
  clearInterval(media.statsTimer);
  if (media.publishing) stopPublishing("");
  for (const feed of [...media.subs.keys()]) dropSub(feed);
  media.available = null;
  media.wasLive = false;
  if (ctx) notice("");
}

function status(text) {
  $("media-status").textContent = text;
}

// About your own video (started, stopped, refused): apart from the room's status line.
function notice(text) {
  $("media-notice").textContent = text;
}

function renderControls() {
  const s = ctx.state();
  const onStage = Boolean(s && s.stage.has(ctx.me()) && s.phase !== "ended");
  $("media-controls").hidden = !(onStage && media.available);
  $("media-publish").textContent = media.publishing ? "Stop my video" : "Start my video";
  for (const id of ["media-camera", "media-mic", "media-screen"]) $(id).disabled = !media.publishing;
}

async function refresh() {
  const id = media.session;
  if (!id) return;
  let view;
  try {
    view = await get(`/api/sessions/${encodeURIComponent(id)}/media`);
  } catch (error) {
    if (media.session === id) status(error.message);
    return;
  }
  if (media.session !== id) return;
  media.available = view.available;
  $("session-media").dataset.available = String(view.available);
  if (!view.available) {
    status("Room-wide video is off: the media server is not available. Chat, questions and timers work as usual.");
    for (const feed of [...media.subs.keys()]) dropSub(feed);
    renderControls();
    return;
  }
  const live = new Map(view.publishers.map((p) => [p.feed, p]));
  for (const feed of [...media.subs.keys()]) if (!live.has(feed)) dropSub(feed);
  for (const p of view.publishers) {
    if (p.member !== ctx.me() && !media.subs.has(p.feed)) subscribe(p);
  }
  status(view.publishers.length
    ? `On camera: ${view.publishers.map((p) => p.name).join(", ")}`
    : "Nobody on stage is on camera yet.");
  renderControls();
}

// --- publishing --------------------------------------------------------------------------------

async function publish() {
  if (media.starting) return;
  media.starting = true;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    const pc = new RTCPeerConnection({ iceServers: await iceServers() });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await api("POST", `/api/sessions/${encodeURIComponent(media.session)}/media/publish`,
      { jsep: { type: "offer", sdp: pc.localDescription.sdp } });
    await pc.setRemoteDescription(answer.jsep);
    media.publishing = { pc, stream, screen: null, feed: answer.feed };
    pc.addEventListener("connectionstatechange", () => {
      if (media.publishing && media.publishing.pc === pc && ["failed", "closed"].includes(pc.connectionState)) {
        stopPublishing("Your video stopped (the media server hung up).");
      }
    });
    const self = el("video", "media-self");
    self.muted = true;
    self.autoplay = true;
    self.playsInline = true;
    self.srcObject = stream;
    self.setAttribute("aria-label", "Your camera");
    $("media-self").replaceChildren(self);
    media.wasLive = true;
    notice("You are on camera.");
  } catch (error) {
    notice(error.message || "Could not start your video.");
  } finally {
    media.starting = false;
    renderControls();
  }
}

async function unpublish() {
  media.wasLive = false;
  stopPublishing("Your camera and microphone are off.");
  try {
    await api("DELETE", `/api/sessions/${encodeURIComponent(media.session)}/media/publish`);
  } catch {
    // gone already
  }
}

function stopPublishing(message) {
  const p = media.publishing;
  media.publishing = null;
  if (p) {
    for (const track of p.stream.getTracks()) track.stop();
    if (p.screen) for (const track of p.screen.getTracks()) track.stop();
    p.pc.close();
  }
  $("media-self").replaceChildren();
  if (message) notice(message);
  renderControls();
}

function toggle(kind, button, label) {
  const p = media.publishing;
  if (!p) return;
  const tracks = p.stream.getTracks().filter((t) => t.kind === kind);
  const on = !(tracks[0] && tracks[0].enabled);
  for (const t of tracks) t.enabled = on;
  button.textContent = `${label} ${on ? "on" : "off"}`;
  button.setAttribute("aria-pressed", String(on));
}

async function shareScreen() {
  const p = media.publishing;
  if (!p) return;
  const sender = p.pc.getSenders().find((s) => s.track && s.track.kind === "video");
  if (p.screen) { // back to the camera
    for (const t of p.screen.getTracks()) t.stop();
    p.screen = null;
    await sender.replaceTrack(p.stream.getVideoTracks()[0]);
    $("media-screen").textContent = "Share screen";
    return;
  }
  try {
    p.screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 5 } });
  } catch (error) {
    notice(error.message || "Screen sharing was not allowed.");
    return;
  }
  const track = p.screen.getVideoTracks()[0];
  track.addEventListener("ended", () => { if (p.screen) shareScreen(); });
  await sender.replaceTrack(track);
  $("media-screen").textContent = "Stop sharing";
}

// --- receiving ---------------------------------------------------------------------------------

async function subscribe(publisher) {
  const feed = publisher.feed;
  const entry = { name: publisher.name, member: publisher.member, subscription: null, pc: null };
  media.subs.set(feed, entry);
  const base = `/api/sessions/${encodeURIComponent(media.session)}/media/subscriptions`;
  try {
    const offer = await api("POST", base, { feed, video: !media.low });
    entry.subscription = offer.subscription;
    const pc = new RTCPeerConnection({ iceServers: await iceServers() });
    entry.pc = pc;
    const figure = el("figure", "media-feed");
    figure.dataset.feed = String(feed);
    const video = el("video");
    video.autoplay = true;
    video.playsInline = true;
    video.dataset.feed = String(feed);
    video.setAttribute("aria-label", `${publisher.name} on camera`);
    const stream = new MediaStream();
    video.srcObject = stream;
    pc.addEventListener("track", (e) => stream.addTrack(e.track));
    figure.append(video, el("figcaption", "small", publisher.name), el("span", "media-quality small muted", ""));
    entry.figure = figure;
    entry.video = video;
    $("media-videos").append(figure);
    await pc.setRemoteDescription(offer.jsep);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    if (media.subs.get(feed) !== entry) return;
    await api("POST", `${base}/${encodeURIComponent(entry.subscription)}/start`,
      { jsep: { type: "answer", sdp: pc.localDescription.sdp } });
  } catch (error) {
    status(error.message || "Could not receive the stage's video.");
    if (media.subs.get(feed) === entry) dropSub(feed, false);
  }
}

function dropSub(feed, tell = true) {
  const entry = media.subs.get(feed);
  if (!entry) return;
  media.subs.delete(feed);
  if (entry.pc) entry.pc.close();
  if (entry.figure) entry.figure.remove();
  if (tell && entry.subscription && media.session) {
    api("DELETE", `/api/sessions/${encodeURIComponent(media.session)}/media/subscriptions/${encodeURIComponent(entry.subscription)}`)
      .catch(() => {});
  }
}

async function setLow(low) {
  media.low = low;
  $("session-media").classList.toggle("low-bandwidth", low);
  for (const entry of media.subs.values()) {
    if (!entry.subscription) continue;
    try {
      await api("PUT", `/api/sessions/${encodeURIComponent(media.session)}/media/subscriptions/${encodeURIComponent(entry.subscription)}/quality`,
        { video: !low });
    } catch (error) {
      status(error.message);
    }
  }
}

// --- connection quality --------------------------------------------------------------------------

async function quality() {
  const rows = [];
  const live = new Set(window.practicaMedia.peerConnections());
  for (const pc of [...media.last.keys()]) if (!live.has(pc)) media.last.delete(pc);
  const all = [...media.subs.values()].filter((e) => e.pc).map((e) => [e.pc, e.figure, "in"]);
  if (media.publishing) all.push([media.publishing.pc, null, "out"]);
  for (const [pc, figure, way] of all) {
    const q = await measure(pc, way);
    if (figure) {
      const badge = figure.querySelector(".media-quality");
      badge.textContent = q.text;
      figure.dataset.quality = q.level;
    }
    rows.push(q);
  }
  const worst = rows.sort((a, b) => a.rank - b.rank)[0];
  const box = $("media-quality");
  box.textContent = worst ? `Connection: ${worst.text}` : "";
  box.dataset.level = worst ? worst.level : "";
}

async function measure(pc, way) {
  let bytes = 0; let lost = 0; let packets = 0; let rtt = null; let fps = null;
  const stats = await pc.getStats();
  stats.forEach((r) => {
    if (way === "in" && r.type === "inbound-rtp") {
      bytes += r.bytesReceived || 0; lost += r.packetsLost || 0; packets += r.packetsReceived || 0;
      if (r.kind === "video" && r.framesPerSecond != null) fps = r.framesPerSecond;
    }
    if (way === "out" && r.type === "outbound-rtp") bytes += r.bytesSent || 0;
    if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime != null) rtt = r.currentRoundTripTime;
  });
  const now = performance.now();
  const before = media.last.get(pc);
  media.last.set(pc, { bytes, at: now });
  const kbps = before ? Math.max(0, Math.round(((bytes - before.bytes) * 8) / (now - before.at))) : null;
  const loss = packets + lost > 0 ? (100 * lost) / (packets + lost) : 0;
  const state = pc.connectionState;
  let level = "good";
  if (state !== "connected") level = state === "connecting" || state === "new" ? "connecting" : "lost";
  else if (loss > 5 || (rtt != null && rtt > 0.4)) level = "poor";
  else if (loss > 1 || (rtt != null && rtt > 0.15)) level = "fair";
  const rank = { lost: 0, poor: 1, connecting: 2, fair: 3, good: 4 }[level];
  const parts = [level];
  if (kbps != null) parts.push(`${kbps} kbit/s`);
  if (way === "in") parts.push(`loss ${loss.toFixed(1)}%`);
  if (rtt != null) parts.push(`rtt ${Math.round(rtt * 1000)} ms`);
  if (fps != null) parts.push(`${Math.round(fps)} fps`);
  return { level, rank, text: parts.join(" · ") };
}

// Complete SDP: wait until ICE gathering is done (bounded), so no trickle is needed.
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);
  });
}
