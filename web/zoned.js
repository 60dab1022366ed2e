// Instants shown in a named time zone (IANA, as the server's zoneinfo knows them).
// Upcoming sessions show in the zone of your profile (a new account starts in its
// browser's), or the browser's own when there is none; a convener's rule is shown in
// the series' own zone as well. One fixed shape, "Tue 8 Dec 2026, 18:00", so the
// same instant reads the same in every browser and a test can compute it.

const formats = new Map();

function formatter(zone) {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, weekday: "short", day: "numeric", month: "numeric", year: "numeric",
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

// The parts of an instant in a zone: {weekday, day, month (1-12), year, hour, minute}.
export function partsIn(ms, zone) {
  const parts = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) parts[part.type] = part.value;
  return parts;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// "Tue 8 Dec 2026, 18:00" in the zone (month names of our own: ICU's change between versions).
export function formatIn(ms, zone) {
  const p = partsIn(ms, zone);
  return `${p.weekday} ${p.day} ${MONTHS[Number(p.month) - 1]} ${p.year}, ${p.hour}:${p.minute}`;
}

// "18:00" in the zone.
export function clockIn(ms, zone) {
  const p = partsIn(ms, zone);
  return `${p.hour}:${p.minute}`;
}

// The zone's short name at that instant ("EST", "GMT+11"), for "18:00 CET".
export function zoneNameAt(ms, zone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" })
      .formatToParts(new Date(ms));
    return (parts.find((p) => p.type === "timeZoneName") || {}).value || zone;
  } catch {
    return zone;
  }
}
