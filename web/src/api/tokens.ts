// Access and refresh tokens: storage shared by the tabs of one browser, the refresh schedule,
// and single-use refresh tokens rotated under a cross-tab lock (presenting a used refresh
// token ends the whole session on the server, so two tabs must never refresh with one).

export interface Tokens {
  accessToken: string
  refreshToken: string
  /** Epoch ms when the access token expires. */
  expiresAt: number
}

const KEY = 'voltledger.tokens'

/** Refresh this long before the access token expires… */
export const REFRESH_MARGIN_MS = 60_000
/** …but never sooner than this after it was issued. */
export const MIN_DELAY_MS = 5_000

/**
 * When to refresh an access token expiring at `expiresAt` (epoch ms), as a delay from `now`:
 * a minute before expiry; for short-lived tokens at three quarters of their remaining life.
 */
export function refreshDelay(expiresAt: number, now: number): number {
  const left = expiresAt - now
  if (left <= 0) return 0
  const delay = left > 4 * REFRESH_MARGIN_MS ? left - REFRESH_MARGIN_MS : Math.floor(left * 0.75)
  return Math.max(Math.min(delay, left), Math.min(MIN_DELAY_MS, left))
}

/** Whether the access token is too close to expiry to send (a request takes time). */
export function isStale(t: Tokens | null, now: number): boolean {
  return !t || t.expiresAt - now < 10_000
}

export function fromResponse(body: { accessToken: string; refreshToken: string; expiresIn: number }, now: number): Tokens {
  return { accessToken: body.accessToken, refreshToken: body.refreshToken, expiresAt: now + body.expiresIn * 1000 }
}

export function load(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY)
    if (!raw) return null
    const t = JSON.parse(raw) as Tokens
    return t && typeof t.accessToken === 'string' && typeof t.refreshToken === 'string' ? t : null
  } catch {
    return null
  }
}

export function save(t: Tokens | null) {
  if (t) localStorage.setItem(KEY, JSON.stringify(t))
  else localStorage.removeItem(KEY)
}

export const STORAGE_KEY = KEY
