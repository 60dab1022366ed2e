// The recurrence rule builder's pure half: presets to an RFC 5545 RRULE value
// ("FREQ=WEEKLY;BYDAY=TH") and back, and a rule said in words. The server parses every
// rule with python-dateutil and refuses a bad one with a typed error; nothing here is
// the last word on what a rule means.

export const WEEKDAYS = [
  ["MO", "Monday"], ["TU", "Tuesday"], ["WE", "Wednesday"], ["TH", "Thursday"],
  ["FR", "Friday"], ["SA", "Saturday"], ["SU", "Sunday"],
];
export const NTHS = [["1", "1st"], ["2", "2nd"], ["3", "3rd"], ["4", "4th"], ["-1", "last"]];
export const PRESETS = [
  ["weekly", "Every week"],
  ["fortnightly", "Every 2nd week"],
  ["monthly-weekday", "Monthly, on the nth weekday"],
  ["monthly-day", "Monthly, on a day of the month"],
  ["custom", "Custom (RRULE)"],
];

const DAY_NAME = Object.fromEntries(WEEKDAYS);
const NTH_NAME = Object.fromEntries(NTHS);

// {preset, weekday: "TU", nth: "2", monthday: 15} → "FREQ=MONTHLY;BYDAY=2TU"; custom: null.
export function ruleOf({ preset, weekday = "MO", nth = "1", monthday = 1 }) {
  switch (preset) {
    case "weekly": return `FREQ=WEEKLY;BYDAY=${weekday}`;
    case "fortnightly": return `FREQ=WEEKLY;INTERVAL=2;BYDAY=${weekday}`;
    case "monthly-weekday": return `FREQ=MONTHLY;BYDAY=${nth}${weekday}`;
    case "monthly-day": return `FREQ=MONTHLY;BYMONTHDAY=${monthday}`;
    default: return null;
  }
}

// The parts of a rule: {FREQ: "WEEKLY", BYDAY: "TU", ...}; an "RRULE:" prefix is allowed.
export function partsOf(rule) {
  const parts = {};
  const text = String(rule || "").trim().replace(/^RRULE:/i, "");
  for (const piece of text.split(";")) {
    const [key, value] = piece.split("=");
    if (key && value !== undefined) parts[key.trim().toUpperCase()] = value.trim().toUpperCase();
  }
  return parts;
}

// The preset a rule was made with, for filling the builder back in; custom otherwise.
export function presetOf(rule) {
  const p = partsOf(rule);
  const keys = Object.keys(p).sort().join(",");
  const day = /^(MO|TU|WE|TH|FR|SA|SU)$/.exec(p.BYDAY || "");
  if (p.FREQ === "WEEKLY" && keys === "BYDAY,FREQ" && day) return { preset: "weekly", weekday: day[1] };
  if (p.FREQ === "WEEKLY" && keys === "BYDAY,FREQ,INTERVAL" && p.INTERVAL === "2" && day) {
    return { preset: "fortnightly", weekday: day[1] };
  }
  const nth = /^(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)$/.exec(p.BYDAY || "");
  if (p.FREQ === "MONTHLY" && keys === "BYDAY,FREQ" && nth) {
    return { preset: "monthly-weekday", nth: nth[1], weekday: nth[2] };
  }
  if (p.FREQ === "MONTHLY" && keys === "BYMONTHDAY,FREQ" && /^([1-9]|[12]\d|3[01])$/.test(p.BYMONTHDAY)) {
    return { preset: "monthly-day", monthday: Number(p.BYMONTHDAY) };
  }
  return { preset: "custom" };
}

// The rule in words: "Every Thursday", "The 2nd Tuesday of each month"; else the rule.
export function describe(rule) {
  const { UNTIL: until, ...rest } = partsOf(rule);
  const chosen = presetOf(Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(";"));
  const tail = until && /^\d{8}/.test(until)
    ? `, until ${until.slice(0, 4)}-${until.slice(4, 6)}-${until.slice(6, 8)}` : "";
  const words = {
    weekly: () => `Every ${DAY_NAME[chosen.weekday]}`,
    fortnightly: () => `Every 2nd ${DAY_NAME[chosen.weekday]}`,
    "monthly-weekday": () => `The ${NTH_NAME[chosen.nth]} ${DAY_NAME[chosen.weekday]} of each month`,
    "monthly-day": () => `Monthly on day ${chosen.monthday}`,
  }[chosen.preset];
  return words ? `${words()}${tail}` : String(rule || "").replace(/^RRULE:/i, "");
}

// The RFC 5545 weekday code of a local date "2026-12-08" ("TU").
export function weekdayOfDate(date) {
  const [y, m, d] = String(date).split("-").map(Number);
  if (!y || !m || !d) return null;
  const index = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday first
  return WEEKDAYS[index][0];
}

// Which nth weekday of its month a local date is (1..4, or -1 for the last one past the 4th).
export function nthOfDate(date) {
  const day = Number(String(date).split("-")[2]);
  if (!day) return "1";
  const nth = Math.ceil(day / 7);
  return nth > 4 ? "-1" : String(nth);
}
