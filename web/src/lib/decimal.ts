// Exact decimal arithmetic on the API's Decimal strings ("123.45"). Money is never parsed into
// a JS float for arithmetic: values are scaled BigInts. Charts may use `toChartNumber`, which
// is for drawing only.

export interface Dec {
  units: bigint
  scale: number
}

const PATTERN = /^([+-])?(\d+)(?:\.(\d+))?$/

export function isDecimal(s: string): boolean {
  return PATTERN.test(s.trim())
}

export function parse(s: string): Dec {
  const m = PATTERN.exec(s.trim())
  if (!m) throw new Error(`not a decimal: ${s}`)
  const frac = m[3] ?? ''
  const units = BigInt((m[2] ?? '0') + frac) * (m[1] === '-' ? -1n : 1n)
  return { units, scale: frac.length }
}

function rescale(d: Dec, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale)
}

export function toString(d: Dec): string {
  const neg = d.units < 0n
  const digits = (neg ? -d.units : d.units).toString().padStart(d.scale + 1, '0')
  const int = digits.slice(0, digits.length - d.scale)
  const frac = d.scale > 0 ? '.' + digits.slice(digits.length - d.scale) : ''
  return (neg ? '-' : '') + int + frac
}

export function add(a: string, b: string): string {
  const x = parse(a)
  const y = parse(b)
  const scale = Math.max(x.scale, y.scale)
  return toString({ units: rescale(x, scale) + rescale(y, scale), scale })
}

export function sum(values: readonly string[]): string {
  return values.reduce((acc, v) => add(acc, v), '0')
}

export function neg(a: string): string {
  const x = parse(a)
  return toString({ units: -x.units, scale: x.scale })
}

export function sub(a: string, b: string): string {
  return add(a, neg(b))
}

export function cmp(a: string, b: string): -1 | 0 | 1 {
  const x = parse(a)
  const y = parse(b)
  const scale = Math.max(x.scale, y.scale)
  const d = rescale(x, scale) - rescale(y, scale)
  return d < 0n ? -1 : d > 0n ? 1 : 0
}

export function isZero(a: string): boolean {
  return parse(a).units === 0n
}

export function isNegative(a: string): boolean {
  return parse(a).units < 0n
}

/** Rounds half away from zero to `scale` places. */
export function round(a: string, scale: number): string {
  const x = parse(a)
  if (x.scale <= scale) return toString({ units: rescale(x, scale), scale })
  const div = 10n ** BigInt(x.scale - scale)
  const q = x.units / div
  const r = x.units % div
  const half = div / 2n
  let units = q
  if (r >= half && x.units >= 0n) units = q + 1n
  else if (-r >= half && x.units < 0n) units = q - 1n
  return toString({ units, scale })
}

/**
 * A money amount an operator typed: digits with at most two decimals, positive. Returns the
 * normalised string or null. The server validates again; this only spares a round trip.
 */
export function parseAmount(input: string, maxScale = 2): string | null {
  const s = input.trim()
  if (!/^\d+(\.\d+)?$/.test(s)) return null
  const d = parse(s)
  if (d.scale > maxScale || d.units <= 0n) return null
  return toString(d)
}

function group(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** "12345.6" → "12,345.60"; null/undefined/"" → "—". */
export function formatFixed(value: string | null | undefined, scale = 2, grouping = true): string {
  if (value === null || value === undefined || value === '') return '—'
  if (!isDecimal(value)) return value
  const s = round(value, scale)
  const neg = s.startsWith('-')
  const [int, frac] = (neg ? s.slice(1) : s).split('.')
  const body = (grouping ? group(int ?? '0') : int) + (frac ? '.' + frac : '')
  return (neg ? '-' : '') + body
}

export const formatMoney = (v: string | null | undefined) => formatFixed(v, 2)
export const formatEnergy = (v: string | null | undefined) => formatFixed(v, 2)

/**
 * Growth of `current` over `previous` in percent, one decimal ("12.5"), or null when the
 * previous value is zero (no base to compare with).
 */
export function growthPercent(current: string, previous: string): string | null {
  const c = parse(current)
  const p = parse(previous)
  if (p.units === 0n) return null
  const scale = Math.max(c.scale, p.scale)
  const cu = rescale(c, scale)
  const pu = rescale(p, scale)
  // ((c - p) / p) * 100 with 3 extra digits, then rounded to 1 place.
  const q = ((cu - pu) * 100000n) / (pu < 0n ? -pu : pu)
  return round(toString({ units: q, scale: 3 }), 1)
}

/** For drawing charts only — never for arithmetic on money. */
export function toChartNumber(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '' || !isDecimal(value)) return null
  return Number(value)
}

export function mul(a: string, b: string): string {
  const x = parse(a)
  const y = parse(b)
  return toString({ units: x.units * y.units, scale: x.scale + y.scale })
}
