import { describe, expect, it } from 'vitest'
import { fromResponse, isStale, refreshDelay, REFRESH_MARGIN_MS } from '@/api/tokens'

describe('token refresh timing', () => {
  const now = 1_000_000
  it('refreshes a 15-minute token one minute before it expires', () => {
    const t = fromResponse({ accessToken: 'a', refreshToken: 'r', expiresIn: 900 }, now)
    expect(t.expiresAt).toBe(now + 900_000)
    expect(refreshDelay(t.expiresAt, now)).toBe(900_000 - REFRESH_MARGIN_MS)
  })
  it('refreshes short-lived tokens at three quarters of their life', () => {
    expect(refreshDelay(now + 120_000, now)).toBe(90_000)
  })
  it('refreshes at once when expired, and never later than expiry', () => {
    expect(refreshDelay(now - 1, now)).toBe(0)
    expect(refreshDelay(now + 2_000, now)).toBeLessThanOrEqual(2_000)
  })
  it('treats a token expiring within 10 s as stale', () => {
    expect(isStale(null, now)).toBe(true)
    expect(isStale({ accessToken: 'a', refreshToken: 'r', expiresAt: now + 5_000 }, now)).toBe(true)
    expect(isStale({ accessToken: 'a', refreshToken: 'r', expiresAt: now + 60_000 }, now)).toBe(false)
  })
})
