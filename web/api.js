// The HTTP API under /api: JSON in and out, the session in an HttpOnly cookie the page
// never sees, and the CSRF token (from /api/me, sign-up, sign-in) on every non-GET call.

let csrf = "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrf(token) {
  if (typeof token === "string" && token) csrf = token;
}

async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "Could not reach the server; check the connection and try again.");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const code = (data && data.code) || "http";
    const message = (data && data.message) || `The server answered ${response.status}.`;
    throw new ApiError(response.status, code, friendly(message));
  }
  if (data && typeof data === "object" && typeof data.csrf === "string") setCsrf(data.csrf);
  return data;
}

// One call; a stale CSRF token (another tab signed in or out) is refreshed and retried once.
export async function api(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (error.code !== "csrf_failed" || method === "GET") throw error;
    await send("GET", "/api/me");
    return send(method, path, body);
  }
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);

// msgspec's validation messages name the field as `$.field`; say it in words.
const FIELD_NAMES = {
  login: "Login", password: "Password", name: "Name", community: "Community id",
  domain: "Domain", purpose: "Purpose", description: "Description", topic: "Topic",
  reason: "Reason", minutes: "Minutes", pronouns: "Pronouns", timezone: "Time zone",
  practice: "Practice", note: "Note", max_uses: "Uses", expires_in_hours: "Hours", token: "Link",
  title: "Title", rule: "Rule (RRULE)", start: "Start", zone: "Time zone", duration_min: "Length (minutes)",
  lobby_min: "Lobby (minutes before)", reminder_min: "Reminder (minutes before)", host: "Host",
  template: "Agenda template",
};

export function friendly(message) {
  const match = /^(.*?) - at `\$\.(\w+)`$/.exec(message || "");
  if (!match) return message;
  const field = FIELD_NAMES[match[2]] || match[2];
  let what = match[1];
  let m;
  if ((m = /length >= (\d+)/.exec(what))) what = `needs at least ${m[1]} character${m[1] === "1" ? "" : "s"}`;
  else if ((m = /length <= (\d+)/.exec(what))) what = `may have at most ${m[1]} characters`;
  else if (/matching regex/.test(what) && match[2] === "start") {
    what = "must be a date and time (YYYY-MM-DDTHH:MM)";
  } else if (/matching regex/.test(what)) {
    what = match[2] === "login"
      ? "may use letters, digits and . _ @ + - (starting with a letter or digit)"
      : "may use lower-case letters, digits and dashes (starting with a letter or digit)";
  } else if ((m = /Expected `int` >= (\d+)/.exec(what))) what = `must be ${m[1]} or more`;
  else if ((m = /Expected `int` <= (\d+)/.exec(what))) what = `must be ${m[1]} or less`;
  else if (/Object missing required field/.test(what)) what = "is required";
  return `${field} ${what}.`;
}

// A file as the body (e.g. WebVTT captions), with the CSRF token; JSON back.
export async function postFile(path, text, type) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST", credentials: "same-origin", cache: "no-store", body: text,
      headers: { Accept: "application/json", "Content-Type": type, "X-CSRF-Token": csrf },
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server; check the connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.code) || "http",
      (data && data.message) || `The server answered ${response.status}.`);
  }
  return data;
}
