// Power schedules: the hours a claw's VM runs, in a time zone, on some days; outside them the
// schedule parks (deallocates) it, which stops compute billing (a stopped but allocated VM is
// still billed: https://learn.microsoft.com/azure/virtual-machines/states-billing). Pure: the
// clock is an argument, time zones come from the runtime's Intl (IANA names).
import { didYouMean } from "./did-you-mean.ts";

/** `schedule:` as written in claws.yaml. */
export type ScheduleSetting =
  | typeof ALWAYS_ON
  | { hours: string; days?: string | string[]; time_zone: string };

export const ALWAYS_ON = "always-on";

/** What a claw's VM does with an upgrade while parked (`parked_upgrade:`). */
export type ParkedUpgrade = "replace" | "defer";
export const PARKED_UPGRADES: readonly ParkedUpgrade[] = ["replace", "defer"];
export const DEFAULT_PARKED_UPGRADE: ParkedUpgrade = "replace";

/** A schedule with its parts parsed. */
export type PowerSchedule =
  | { kind: "always-on" }
  | {
      kind: "hours";
      /** Minutes after local midnight the VM starts / parks; end < start runs past midnight. */
      startMinute: number;
      endMinute: number;
      /** Local weekdays a running window starts on, 0 = Sunday. */
      days: ReadonlySet<number>;
      timeZone: string;
      /** As written, for reasons and tables: "08:00-20:00 mon-fri Europe/Berlin". */
      text: string;
    };

export interface ScheduleProblem {
  /** Path below the `schedule` key ([] for the value itself). */
  path: string[];
  message: string;
  fix?: string;
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const HOURS = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;
const EXAMPLE = '{ hours: "08:00-20:00", days: mon-fri, time_zone: Europe/Berlin }';

/** Problems of a `schedule:` value; none means parseSchedule accepts it. */
export function scheduleProblems(value: unknown): ScheduleProblem[] {
  if (value === ALWAYS_ON) return [];
  if (typeof value === "string") {
    const guess = didYouMean(value, [ALWAYS_ON]);
    return [
      {
        path: [],
        message: `${JSON.stringify(value)} is not a schedule`,
        fix: guess ? `did you mean "${ALWAYS_ON}"?` : `write ${ALWAYS_ON}, or ${EXAMPLE}`,
      },
    ];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [
      { path: [], message: "must be always-on or a map with hours and time_zone", fix: `e.g. ${EXAMPLE}` },
    ];
  }
  const problems: ScheduleProblem[] = [];
  const known = ["hours", "days", "time_zone"];
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = didYouMean(key, known);
    problems.push({
      path: [key],
      message: `unknown key '${key}' in schedule`,
      fix: guess ? `did you mean '${guess}'?` : `schedule takes ${known.join(", ")}`,
    });
  }
  const v = value as Record<string, unknown>;
  if (v.hours === undefined)
    problems.push({ path: [], message: "schedule needs hours", fix: 'add hours: "08:00-20:00"' });
  else if (typeof v.hours !== "string" || hoursOf(v.hours) === undefined) {
    problems.push({
      path: ["hours"],
      message: `${JSON.stringify(v.hours)} is not a range of hours`,
      fix: 'write "HH:MM-HH:MM" in 24-hour time, quoted, e.g. "08:00-20:00" ("22:00-06:00" runs past midnight)',
    });
  } else {
    const h = hoursOf(v.hours)!;
    if (h.start === h.end)
      problems.push({
        path: ["hours"],
        message: `${v.hours} starts and ends at the same time`,
        fix: `write ${ALWAYS_ON} for a claw that never parks`,
      });
  }
  if (v.days !== undefined && daysOf(v.days) === undefined) {
    problems.push({
      path: ["days"],
      message: `${JSON.stringify(v.days)} is not a set of days`,
      fix: "write day names (sun mon tue wed thu fri sat) and ranges, e.g. mon-fri, or [mon, wed, fri]",
    });
  }
  if (v.time_zone === undefined)
    problems.push({
      path: [],
      message: "schedule needs time_zone",
      fix: "add time_zone: Europe/Berlin (an IANA time zone)",
    });
  else if (typeof v.time_zone !== "string" || !isTimeZone(v.time_zone)) {
    const zone = String(v.time_zone);
    const guess = didYouMean(zone, timeZones());
    problems.push({
      path: ["time_zone"],
      message: `${JSON.stringify(v.time_zone)} is not an IANA time zone`,
      fix: guess ? `did you mean ${guess}?` : "e.g. Europe/Berlin, America/New_York, UTC",
    });
  }
  return problems;
}

/** The parsed schedule; the setting must be free of scheduleProblems. */
export function parseSchedule(setting: ScheduleSetting | undefined): PowerSchedule {
  if (setting === undefined || setting === ALWAYS_ON) return { kind: "always-on" };
  const hours = hoursOf(setting.hours);
  const days = setting.days === undefined ? new Set([0, 1, 2, 3, 4, 5, 6]) : daysOf(setting.days);
  if (!hours || !days || !isTimeZone(setting.time_zone))
    throw new Error(`invalid schedule ${JSON.stringify(setting)} (check it with scheduleProblems)`);
  const dayText = setting.days === undefined ? "" : ` ${[setting.days].flat().join(",")}`;
  return {
    kind: "hours",
    startMinute: hours.start,
    endMinute: hours.end,
    days,
    timeZone: setting.time_zone,
    text: `${setting.hours}${dayText} ${setting.time_zone}`,
  };
}

export function scheduleText(s: PowerSchedule): string {
  return s.kind === "always-on" ? ALWAYS_ON : s.text;
}

/** Whether the schedule has the VM running at `at`. */
export function scheduledToRun(s: PowerSchedule, at: Date): boolean {
  if (s.kind === "always-on") return true;
  const { weekday, minute } = localTime(at, s.timeZone);
  if (s.startMinute < s.endMinute)
    return s.days.has(weekday) && minute >= s.startMinute && minute < s.endMinute;
  // Past midnight: the window started yesterday (a listed day) or starts today.
  return (
    (s.days.has(weekday) && minute >= s.startMinute) ||
    (s.days.has((weekday + 6) % 7) && minute < s.endMinute)
  );
}

/**
 * The next time at or after `at` the schedule starts the VM (undefined for always-on). Wall-clock
 * arithmetic in the zone, corrected once for a change of UTC offset (daylight saving) in between.
 */
export function nextScheduledStart(s: PowerSchedule, at: Date): Date | undefined {
  if (s.kind === "always-on") return undefined;
  const now = localTime(at, s.timeZone);
  for (let day = 0; day <= 7; day++) {
    const weekday = (now.weekday + day) % 7;
    if (!s.days.has(weekday)) continue;
    const minutesAhead = day * 24 * 60 + s.startMinute - now.minute;
    if (minutesAhead < 0) continue;
    const guess = new Date(at.getTime() + minutesAhead * 60_000 - now.second * 1000);
    const shift = offsetMinutes(guess, s.timeZone) - offsetMinutes(at, s.timeZone);
    return new Date(guess.getTime() - shift * 60_000);
  }
  return undefined;
}

function hoursOf(text: string): { start: number; end: number } | undefined {
  const m = HOURS.exec(text);
  if (!m) return undefined;
  const [h1, m1, h2, m2] = m.slice(1).map(Number) as [number, number, number, number];
  // 24:00 ends a day; it never starts one.
  const ok = (h: number, min: number, end: boolean) => (h < 24 && min < 60) || (end && h === 24 && min === 0);
  if (!ok(h1, m1, false) || !ok(h2, m2, true)) return undefined;
  return { start: h1 * 60 + m1, end: (h2 * 60 + m2) % (24 * 60) };
}

function daysOf(value: unknown): Set<number> | undefined {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((p) =>
    typeof p === "string" ? p.split(",").map((s) => s.trim().toLowerCase()) : [undefined],
  );
  const days = new Set<number>();
  for (const part of parts) {
    if (!part) return undefined;
    const [from, to, extra] = part.split("-");
    const a = DAY_NAMES.indexOf(from as (typeof DAY_NAMES)[number]);
    const b = to === undefined ? a : DAY_NAMES.indexOf(to as (typeof DAY_NAMES)[number]);
    if (a < 0 || b < 0 || extra !== undefined) return undefined;
    // A range wraps the week: fri-mon is fri, sat, sun, mon.
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days.size > 0 ? days : undefined;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    // RangeError: Invalid time zone specified.
    return false;
  }
}

function timeZones(): string[] {
  return Intl.supportedValuesOf("timeZone");
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatIn(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(zone, f);
  }
  return f;
}

interface LocalTime {
  weekday: number;
  /** Minutes after local midnight. */
  minute: number;
  second: number;
  /** Local wall-clock time as if it were UTC, ms. */
  wall: number;
}

/** Local weekday and time of day at `at` in `zone`. */
export function localTime(at: Date, zone: string): LocalTime {
  const parts = Object.fromEntries(
    formatIn(zone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  return {
    weekday: DAY_NAMES.indexOf(String(parts.weekday).toLowerCase() as (typeof DAY_NAMES)[number]),
    minute: hour * 60 + minute,
    second: Number(parts.second),
    wall: Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      hour,
      minute,
      Number(parts.second),
    ),
  };
}

/** The zone's UTC offset at `at`, in minutes. */
function offsetMinutes(at: Date, zone: string): number {
  return Math.round((localTime(at, zone).wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** "Sat 10:05" in the zone, for reasons. */
export function localTimeText(at: Date, zone: string): string {
  const t = localTime(at, zone);
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = DAY_NAMES[t.weekday]!;
  return `${day[0]!.toUpperCase()}${day.slice(1)} ${pad(Math.floor(t.minute / 60))}:${pad(t.minute % 60)}`;
}

/** Who parked a VM (TAGS.parkedBy). */
export interface ParkedBy {
  by: "schedule" | "operator";
  at: string;
}

export function formatParkedBy(p: ParkedBy): string {
  return `${p.by};${p.at}`;
}

export function parseParkedBy(value: string | undefined): ParkedBy | undefined {
  const [by, at] = (value ?? "").split(";");
  if ((by !== "schedule" && by !== "operator") || !at || Number.isNaN(Date.parse(at))) return undefined;
  return { by, at };
}
