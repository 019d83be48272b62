// Durations in words ("silent for 3 d 4 h"): the two largest units, whole ones, rounded down,
// so an operator reads at a glance how long a device has been quiet. Pure; the words come from
// the caller (i18n), tested in tests/duration.test.ts.

export type DurationUnit = 'd' | 'h' | 'm'

/** Whole days, hours and minutes of `seconds` (negative counts as 0). */
export function durationParts(seconds: number): { d: number; h: number; m: number } {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0))
  return { d: Math.floor(s / 86_400), h: Math.floor((s % 86_400) / 3600), m: Math.floor((s % 3600) / 60) }
}

/**
 * The two largest non-zero units (`3 d 4 h`, `2 h 5 m`, `7 m`); under a minute `less` (e.g.
 * "< 1 min"). `unit(u, n)` words one unit; `join` separates them.
 */
export function formatDuration(seconds: number, unit: (u: DurationUnit, n: number) => string, less: string, join = ' '): string {
  const p = durationParts(seconds)
  const parts: string[] = []
  for (const u of ['d', 'h', 'm'] as const) {
    if (parts.length === 0 && p[u] === 0) continue
    if (parts.length === 2) break
    if (p[u] > 0) parts.push(unit(u, p[u]))
    else if (parts.length === 1) break
  }
  return parts.length ? parts.join(join) : less
}
