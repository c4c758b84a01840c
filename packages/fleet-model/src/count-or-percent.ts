// Rollout sizes are written as a count (3) or a percent string ("25%").

/** Percent value of a string "N%" (N an integer), or undefined. */
export function parsePercent(value: string): number | undefined {
  const m = /^(\d{1,3})%$/.exec(value.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * Absolute count for `value` out of `total`. Counts are used as written; percents are taken
 * of `total` and rounded with `round` ("up" for wave sizes so a wave is never empty, "down"
 * for failure tolerances so "10%" of 5 tolerates none rather than one).
 */
export function countOf(value: number | string, total: number, round: "up" | "down"): number {
  if (typeof value === "number") return value;
  const p = parsePercent(value);
  if (p === undefined) throw new Error(`not a count or percent: ${JSON.stringify(value)}`);
  const exact = (p * total) / 100;
  return round === "up" ? Math.ceil(exact) : Math.floor(exact);
}
