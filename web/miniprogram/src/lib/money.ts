// Money as the API sends it: decimal strings in yuan ("265.04", "-3.5"). Arithmetic is done
// in whole fen (integers), never in floating point.

/** Recharge limits of `createRechargeOrder`, in fen. */
export const MIN_RECHARGE_FEN = 100
export const MAX_RECHARGE_FEN = 500000
/** The preset amounts offered on the recharge page, in yuan. */
export const PRESETS = ['20', '50', '100', '200', '500', '1000']

/** Fen from a decimal string; throws on anything that is not a plain amount. */
export function toFen(s: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(String(s).trim())
  if (!m) throw new Error(`not an amount: ${s}`)
  const frac = ((m[3] || '') + '0000').slice(0, 4)
  // Sub-fen digits (the API's prices have four) are rounded half up to the fen.
  const fen = Number(m[2]) * 100 + Number(frac.slice(0, 2)) + (Number(frac.slice(2)) >= 50 ? 1 : 0)
  return m[1] === '-' && fen !== 0 ? -fen : fen
}

/** "1234.5" -> "1,234.50"; negative amounts keep their sign. */
export function formatYuan(v: string | number): string {
  const fen = typeof v === 'number' ? v : toFen(v)
  const neg = fen < 0
  const abs = Math.abs(fen)
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${neg ? '-' : ''}${yuan}.${String(abs % 100).padStart(2, '0')}`
}

/** Fen -> the API's decimal string ("20.00"). */
export function fenToDecimal(fen: number): string {
  const neg = fen < 0
  const abs = Math.abs(fen)
  return `${neg ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** A price per kWh as sent (four decimals kept, trailing zeros beyond two dropped). */
export function formatPrice(s: string): string {
  const m = /^(-?\d+)(?:\.(\d+))?$/.exec(String(s).trim())
  if (!m) return s
  let frac = (m[2] || '').replace(/0+$/, '')
  if (frac.length < 2) frac = (frac + '00').slice(0, 2)
  return `${m[1]}.${frac}`
}

export type AmountCheck = { ok: true; fen: number; decimal: string } | { ok: false; reason: 'empty' | 'format' | 'min' | 'max' }

/** What the customer typed as a custom amount: yuan with at most two decimals, 1.00–5000.00. */
export function checkAmount(input: string): AmountCheck {
  const s = String(input || '').trim()
  if (!s) return { ok: false, reason: 'empty' }
  if (!/^\d+(\.\d{0,2})?$/.test(s)) return { ok: false, reason: 'format' }
  const fen = toFen(s.endsWith('.') ? s.slice(0, -1) : s)
  if (fen < MIN_RECHARGE_FEN) return { ok: false, reason: 'min' }
  if (fen > MAX_RECHARGE_FEN) return { ok: false, reason: 'max' }
  return { ok: true, fen, decimal: fenToDecimal(fen) }
}
