/**
 * Counts redirects whose token never arrived, per holder and room, for browsers that keep no
 * cookies and so never return a marker. The map is bounded: pairs whose last redirect left the
 * window are forgotten as new ones come, and when it is full anyway, the oldest pair is
 * forgotten, which at worst allows one more redirect for it.
 */
export interface Backstop {
  /** Redirects recorded for `subject` within the window ending at `now`. */
  count(subject: string, now: number): number;
  record(subject: string, now: number): void;
  /** The token arrived: the pair is not looping. */
  clear(subject: string): void;
  readonly size: number;
}

export function createBackstop(windowSeconds: number, maxEntries: number): Backstop {
  const redirects = new Map<string, number[]>();

  const recent = (subject: string, now: number): number[] =>
    (redirects.get(subject) ?? []).filter((time) => now - time < windowSeconds);

  return {
    count: (subject, now) => recent(subject, now).length,

    record(subject, now) {
      const times = recent(subject, now);
      times.push(now);
      // Re-inserting moves the pair to the end of the map's order, so eviction takes the oldest.
      redirects.delete(subject);
      redirects.set(subject, times);
      if (redirects.size > maxEntries) {
        const oldest = redirects.keys().next().value as string;
        redirects.delete(oldest);
      }
      // The map is in order of last redirect, so the expired pairs are all at its start.
      for (const [pair, pairTimes] of redirects) {
        if (now - (pairTimes[pairTimes.length - 1] ?? now) < windowSeconds) break;
        redirects.delete(pair);
      }
    },

    clear(subject) {
      redirects.delete(subject);
    },

    get size() {
      return redirects.size;
    },
  };
}
