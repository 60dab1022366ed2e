// A breakout room's call (README "Audio and video in pairs"): the members of a pair or trio
// see and hear each other peer to peer (WebRTC, a mesh: one connection per partner).
// Practica carries only the signalling, as the session op `signal` (relayed to the one
// partner named, never stored). Of two partners, the one whose id sorts first offers; the
// other says `hello` when their page arrives, which asks for a fresh offer. Nothing starts
// before the person first presses "Join the call" (later rooms then join by themselves,
// until they press "Leave the call"). Microphone and camera can be switched off; "Low
// bandwidth" is audio only both ways (partners stop sending you video). Each partner's
// tile shows the connection's quality (session-call-quality.js).
// session-pairs.js calls update() with the breakout room shown (or null to hang up).

import { $, button, el } from "./dom.js";
import { iceServers } from "./ice.js";
import { measure } from "./session-call-quality.js";

const GATHER_MS = 1500; // send the description once ICE gathering completes, or after this
const STATS_MS = 2000;
const RETRY_MS = 2000;

let deps = null;
let call = null; // {key, round, group, session, peers: Map<member, peer>, local, stats}
const want = { audio: true, video: true, low: false }; // kept across rounds
let iceList = [];
let shown = { room: null, state: null }; // what update() was last given
const JOINED = "practica.breakout-call";

export function init(options) {
  deps = options;
  deps.gateway.addEventListener("relayed", (e) => {
    const frame = e.detail;
    if (frame.kind !== "signal" || !call || frame.stream !== `session:${call.session}`) return;
    const data = frame.data || {};
    if (data.round !== call.round || data.group !== call.group) return; // another room or round
    const peer = call.peers.get(frame.from && frame.from.id);
    if (peer) received(peer, data.signal || {}).catch((error) => note(peer, error));
  });
  window.addEventListener("pagehide", () => hangUp());
}

// The room the breakout view shows now (session-pairs.js breakoutRoom), or null: join, keep
// or leave the call. A visiting host has no call (a visit is chat only).
export function update(room, state) {
  const me = deps.me().id;
  const key = room && !room.visiting ? `${deps.shownId()}:${room.round}:${room.group}` : "";
  shown = { room, state };
  if (call && call.key !== key) hangUp();
  if (!key || (!call && !joining())) {
    prompt(key);
    return;
  }
  if (!call) start(key, room);
  const others = room.members.filter((m) => m !== me);
  for (const [member, peer] of call.peers) {
    if (!others.includes(member)) drop(peer, "left the room");
  }
  for (const member of others) {
    if (!call.peers.has(member)) addPeer(member, (state.attendees.get(member) || { name: member }).name);
  }
  $("call-empty").hidden = call.peers.size > 0;
}

// Whether to be in the call: once someone joins one, the next rooms' calls start by
// themselves (until they leave one). Nothing starts a camera, or gathers ICE candidates,
// before that first press.
function joining() {
  try {
    return localStorage.getItem(JOINED) === "yes";
  } catch {
    return false;
  }
}

function remember(yes) {
  try {
    localStorage.setItem(JOINED, yes ? "yes" : "no");
  } catch { /* private mode: ask again next time */ }
}

// "Join the call" in a breakout room whose call this page is not in (none without a room).
function prompt(key) {
  const box = $("breakout-call-join");
  if (!key) {
    box?.remove();
    return;
  }
  if (box) return;
  const join = el("section", "breakout-call-join");
  join.id = "breakout-call-join";
  join.setAttribute("aria-label", "Call with your breakout room");
  join.append(el("p", "muted", "Talk face to face: your partners see and hear you once you join."),
    button("Join the call", "primary small", () => {
      remember(true);
      join.remove();
      if (shown.room) update(shown.room, shown.state);
    }));
  $("breakout").insertBefore(join, $("breakout-chat"));
}

function start(key, room) {
  call = { key, round: room.round, group: room.group, session: deps.shownId(), peers: new Map(),
    local: null, stats: setInterval(() => call && measure(call.peers.values(), STATS_MS), STATS_MS), ready: null };
  const box = view();
  $("breakout").insertBefore(box, $("breakout-chat"));
  call.ready = Promise.all([camera(), iceConfig()]);
}

// Leave the call: tell the partners, close every connection, release camera and microphone.
export function hangUp() {
  if (!call) return;
  const ending = call;
  call = null;
  clearInterval(ending.stats);
  for (const peer of ending.peers.values()) {
    send(peer, { kind: "bye" }, ending);
    close(peer);
  }
  if (ending.local) ending.local.getTracks().forEach((t) => t.stop());
  $("breakout-call")?.remove();
}

// "Leave the call": hang up and stay out (the room's chat goes on) until joining again.
function leave() {
  remember(false);
  hangUp();
  if (shown.room) update(shown.room, shown.state);
}

async function camera() {
  try {
    call.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    $("call-self").srcObject = call.local;
    applyWant();
  } catch (error) {
    status(`No camera or microphone (${error.name || error}): you can still see and hear your partners.`);
  }
}

async function iceConfig() {
  iceList = await iceServers();
}

// --- the view ----------------------------------------------------------------------------------

function view() {
  const box = el("section", "breakout-call");
  box.id = "breakout-call";
  box.setAttribute("aria-label", "Call with your breakout room");
  const tiles = el("div", "call-tiles");
  tiles.id = "call-tiles";
  const self = tile("You", "call-self-tile");
  const video = self.querySelector("video");
  video.id = "call-self";
  video.muted = true;
  tiles.append(self);
  const empty = el("p", "muted", "Waiting for your partner to join the call…");
  empty.id = "call-empty";
  const controls = el("div", "row-buttons call-controls");
  controls.id = "call-controls";
  controls.append(
    toggle("Microphone", "audio", () => want.audio),
    toggle("Camera", "video", () => want.video && !want.low),
    toggle("Low bandwidth (audio only)", "low", () => want.low),
    button("Leave the call", "ghost small", leave));
  const line = el("p", "muted call-status");
  line.id = "call-status";
  line.setAttribute("role", "status");
  box.append(tiles, empty, controls, line);
  return box;
}

function tile(name, className) {
  const figure = el("figure", `call-tile ${className}`);
  const video = el("video");
  video.autoplay = true;
  video.playsInline = true;
  const caption = el("figcaption", "", name);
  figure.append(video, caption);
  return figure;
}

function toggle(label, what, on) {
  const control = button(label, "ghost small");
  control.dataset.what = what;
  control.setAttribute("aria-pressed", String(on()));
  control.addEventListener("click", () => {
    want[what] = !want[what];
    applyWant();
    for (const b of $("call-controls").querySelectorAll("[data-what]")) b.setAttribute("aria-pressed", String(
      b.dataset.what === "audio" ? want.audio : b.dataset.what === "video" ? want.video && !want.low : want.low));
  });
  return control;
}

function status(text) {
  const line = $("call-status");
  if (line && line.textContent !== text) line.textContent = text;
}

// Microphone and camera as wanted; in low-bandwidth mode no video is sent (nor asked for).
function applyWant() {
  if (!call) return;
  const sending = want.video && !want.low;
  if (call.local) {
    call.local.getAudioTracks().forEach((t) => { t.enabled = want.audio; });
    call.local.getVideoTracks().forEach((t) => { t.enabled = sending; });
  }
  for (const peer of call.peers.values()) {
    sendVideo(peer);
    send(peer, { kind: "media", audio: want.audio, video: sending, low_bandwidth: want.low });
  }
}

// Video goes to a partner unless either of you is in low-bandwidth mode.
function sendVideo(peer) {
  const sender = peer.pc && peer.videoSender;
  if (!sender || !call || !call.local) return;
  const track = want.low || peer.media.low_bandwidth ? null : call.local.getVideoTracks()[0] || null;
  if (sender.track !== track) sender.replaceTrack(track).catch(() => {});
}

// --- peers --------------------------------------------------------------------------------------

function addPeer(member, name) {
  const figure = tile(name, "call-peer");
  figure.dataset.member = member;
  const quality = el("p", "call-quality", "Connecting…");
  quality.setAttribute("role", "status");
  figure.append(quality);
  $("call-tiles").append(figure);
  const peer = { member, name, figure, video: figure.querySelector("video"), quality, pc: null,
    callId: "", sent: false, pending: [], media: { audio: true, video: true, low_bandwidth: false },
    offerer: deps.me().id < member, last: null, retry: null, videoSender: null };
  call.peers.set(member, peer);
  call.ready.then(() => {
    if (call && call.peers.get(member) === peer) {
      if (peer.offerer) offer(peer).catch((error) => note(peer, error));
      else send(peer, { kind: "hello" });
    }
  });
}

function drop(peer, why) {
  close(peer);
  peer.figure.remove();
  call.peers.delete(peer.member);
  status(`${peer.name} ${why}.`);
}

function close(peer) {
  clearTimeout(peer.retry);
  if (peer.pc) peer.pc.close();
  peer.pc = null;
  peer.sent = false;
}

function connection(peer, callId) {
  close(peer);
  const pc = new RTCPeerConnection({ iceServers: iceList });
  peer.pc = pc;
  peer.callId = callId;
  peer.pending = [];
  peer.last = null;
  if (call.local) {
    for (const track of call.local.getTracks()) {
      const sender = pc.addTrack(track, call.local);
      if (track.kind === "video") peer.videoSender = sender;
    }
  } else {
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addTransceiver("video", { direction: "recvonly" });
  }
  sendVideo(peer);
  pc.addEventListener("icecandidate", (e) => {
    if (peer.pc !== pc || !peer.sent || !e.candidate) return; // before: it is in the description
    send(peer, { kind: "candidate", call: callId, candidate: e.candidate.candidate,
      sdp_mid: e.candidate.sdpMid ?? undefined, sdp_mline_index: e.candidate.sdpMLineIndex ?? undefined });
  });
  pc.addEventListener("track", (e) => {
    if (peer.video.srcObject !== e.streams[0]) peer.video.srcObject = e.streams[0] || new MediaStream([e.track]);
    peer.video.play().catch(() => status("Press anywhere on the page to hear your partners."));
  });
  pc.addEventListener("connectionstatechange", () => {
    if (peer.pc !== pc) return;
    peer.figure.dataset.state = pc.connectionState;
    if (pc.connectionState === "connected") send(peer, { kind: "media", audio: want.audio, video: want.video && !want.low, low_bandwidth: want.low });
    if (pc.connectionState === "failed") {
      peer.quality.textContent = "Connection lost: trying again…";
      peer.retry = setTimeout(() => restart(peer), RETRY_MS);
    }
  });
  return pc;
}

function restart(peer) {
  if (!call || call.peers.get(peer.member) !== peer) return;
  if (peer.offerer) offer(peer).catch((error) => note(peer, error));
  else send(peer, { kind: "hello" });
}

async function offer(peer) {
  const pc = connection(peer, `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  if (peer.pc !== pc) return;
  peer.sent = true;
  send(peer, { kind: "offer", call: peer.callId, sdp: pc.localDescription.sdp });
}

async function received(peer, signal) {
  const current = call;
  await current.ready; // camera and ICE servers first: an answer sends what we have
  if (call !== current || current.peers.get(peer.member) !== peer) return;
  if (signal.kind === "hello" && peer.offerer) await offer(peer);
  else if (signal.kind === "offer" && !peer.offerer) {
    const pc = connection(peer, signal.call);
    await pc.setRemoteDescription({ type: "offer", sdp: signal.sdp });
    await candidates(peer);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    if (peer.pc !== pc) return;
    peer.sent = true;
    send(peer, { kind: "answer", call: signal.call, sdp: pc.localDescription.sdp });
  } else if (signal.kind === "answer" && peer.pc && signal.call === peer.callId
             && peer.pc.signalingState === "have-local-offer") {
    await peer.pc.setRemoteDescription({ type: "answer", sdp: signal.sdp });
    await candidates(peer);
  } else if (signal.kind === "candidate" && peer.pc && signal.call === peer.callId) {
    peer.pending.push({ candidate: signal.candidate, sdpMid: signal.sdp_mid ?? null,
      sdpMLineIndex: signal.sdp_mline_index ?? null });
    if (peer.pc.remoteDescription) await candidates(peer);
  } else if (signal.kind === "media") {
    peer.media = { audio: Boolean(signal.audio), video: Boolean(signal.video), low_bandwidth: Boolean(signal.low_bandwidth) };
    peer.figure.querySelector("figcaption").textContent = caption(peer);
    sendVideo(peer);
  } else if (signal.kind === "bye") {
    close(peer);
    peer.figure.dataset.state = "closed";
    peer.quality.textContent = "Left the call";
  }
}

async function candidates(peer) {
  const pc = peer.pc;
  while (pc && peer.pending.length) await pc.addIceCandidate(peer.pending.shift());
}

function caption(peer) {
  const off = [];
  if (!peer.media.audio) off.push("microphone off");
  if (!peer.media.video) off.push(peer.media.low_bandwidth ? "audio only" : "camera off");
  return off.length ? `${peer.name} (${off.join(", ")})` : peer.name;
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function send(peer, signal, current = call) {
  if (!current) return;
  deps.gateway.command("session", { session: current.session, op: { op: "signal", to: peer.member, signal } })
    .catch((error) => note(peer, error));
}

function note(peer, error) {
  if (error && error.name === "InvalidStateError") return; // a connection replaced meanwhile
  status(`Call with ${peer.name}: ${(error && error.message) || error}`);
}
