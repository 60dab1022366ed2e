// Instants shown in a named time zone (IANA, as the server's zoneinfo knows them).
// Upcoming sessions show in the zone of your profile (a new account starts in its
// browser's), or the browser's own when there is none; a convener's rule is shown in
// the series' own zone as well. One fixed shape, "Tue 8 Dec 2026, 18:00", so the
// same instant reads the same in every browser and a test can compute it.

const formats = new Map();

function formatter(zone) {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    formats.set(zone, format);
  }
  return format;
}

// The browser's own zone ("Australia/Sydney"), or UTC if it says none.
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

// Whether this browser knows the zone (the server checks against zoneinfo again).
export function knownZone(zone) {
  if (!zone || typeof zone !== "string") return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

// Every zone this browser knows, UTC first (for a picker's datalist).
export function allZones() {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  return ["UTC", ...zones.filter((z) => z !== "UTC")];
}

// The parts of an instant in a zone: {weekday, day, month, year, hour, minute}.
export function partsIn(ms, zone) {
  const parts = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) parts[part.type] = part.value;
  return parts;
}

// "Tue 8 Dec 2026, 18:00" in the zone.
export function formatIn(ms, zone) {
  const p = partsIn(ms, zone);
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute}`;
}

// "18:00" in the zone.
export function clockIn(ms, zone) {
  const p = partsIn(ms, zone);
  return `${p.hour}:${p.minute}`;
}

// The calendar date of an instant in a zone, "2026-12-08" (to group a list by day).
export function dateIn(ms, zone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(ms));
}

// The zone's short name at that instant ("CET", "GMT+11"), for "18:00 CET".
export function zoneNameAt(ms, zone) {
  try {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "short" })
      .formatToParts(new Date(ms));
    return (parts.find((p) => p.type === "timeZoneName") || {}).value || zone;
  } catch {
    return zone;
  }
}
