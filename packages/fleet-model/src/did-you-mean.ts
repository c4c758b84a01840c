// "Did you mean …?" suggestions for misspelt keys and names.

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: transpositions look two rows back.
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word` (case-insensitive, `-`/`_` treated alike), if it is close
 * enough to be a plausible typo: at most a third of the word's length in edits (at least 1,
 * at most 3). Failing that, a candidate whose `_`-separated words include all of the word's
 * ("telegram_token" → "telegram_bot_token"), or the other way round.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll("-", "_");
  const w = norm(word);
  const list = [...candidates].filter((c) => c !== word);
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of list) {
    const distance = editDistance(w, norm(candidate));
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  if (best) return best.candidate;
  const parts = (s: string) => new Set(norm(s).split("_").filter(Boolean));
  const mine = parts(word);
  if (mine.size < 2) return undefined;
  const subset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));
  const matches = list.filter((c) => {
    const theirs = parts(c);
    return subset(mine, theirs) || (theirs.size >= 2 && subset(theirs, mine));
  });
  return matches.length === 1 ? matches[0] : undefined;
}
