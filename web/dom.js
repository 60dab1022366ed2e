// Small DOM helpers. User text always goes in as text (textContent, createTextNode).

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function button(text, className = "ghost small", onClick = null) {
  const node = el("button", className, text);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

// A labelled field: <label><span>Label</span><input></label>, so get_by_label finds it.
export function field(labelText, control, className = "field") {
  const label = el("label", className);
  label.append(el("span", "field-label", labelText), control);
  return label;
}

export function input(type = "text", attrs = {}) {
  const node = document.createElement("input");
  node.type = type;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  return node;
}

export function select(options, value) {
  const node = document.createElement("select");
  for (const [optionValue, label] of options) {
    const option = el("option", "", label);
    option.value = optionValue;
    node.append(option);
  }
  if (value !== undefined) node.value = value;
  return node;
}

let toastTimer = null;
export function toast(message) {
  const box = $("toast");
  box.textContent = message || "Something went wrong";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// Show an error in a form's role=alert box (or clear it with no message).
export function showError(box, message) {
  box.textContent = message || "";
  box.hidden = !message;
}

// Run an async form action with the submit button disabled and errors shown inline.
export function onSubmit(form, errorBox, action) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const submit = form.querySelector("button[type=submit], button:not([type])");
    showError(errorBox, "");
    if (submit) submit.disabled = true;
    try {
      await action(e);
    } catch (error) {
      showError(errorBox, (error && error.message) || "Something went wrong");
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}

export function initials(name) {
  const text = String(name || "?");
  const parts = text.trim().split(/\s+/).filter((p) => /\p{L}/u.test(p[0] || ""));
  return (parts.slice(0, 2).map((p) => p[0]).join("") || text.slice(0, 1)).toUpperCase();
}

// Times show in the profile's time zone (set on sign-in), else the browser's.
let timeZone;

export function setTimeZone(zone) {
  timeZone = undefined;
  if (!zone) return;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone }); // throws on an unknown zone
    timeZone = zone;
  } catch {
    // keep the browser's zone
  }
}

const inZone = (options) => (timeZone ? { ...options, timeZone } : options);
const dayOf = (date) => date.toLocaleDateString("en-CA", inZone({}));

export function formatClock(ts) {
  return new Date(ts).toLocaleTimeString([], inZone({ hour: "2-digit", minute: "2-digit" }));
}

export function formatTime(ts) {
  const date = new Date(ts);
  return dayOf(new Date()) === dayOf(date)
    ? formatClock(ts)
    : date.toLocaleString([], inZone({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }));
}

export function formatDateTime(ts) {
  return new Date(ts).toLocaleString([], inZone({
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  }));
}

export function timeElement(ts, text = formatDateTime(ts)) {
  const node = el("time", "", text);
  node.dateTime = new Date(ts).toISOString();
  return node;
}

export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied to the clipboard");
  } catch {
    if (fallbackInput) {
      fallbackInput.focus();
      fallbackInput.select();
    }
    toast("Select the link and copy it");
  }
}

export const ROLES = ["guest", "member", "host", "convener", "owner"];
export const rank = (role) => ROLES.indexOf(role) + 1;
