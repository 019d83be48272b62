// The platform console's session: its own storage key (never the tenant portal's), no
// refresh (it ends at expiry), ended by an UNAUTHENTICATED or FORBIDDEN answer, and a logout
// the server is told about.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const KEY = 'voltledger.platform'
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const doc = (q: string) => ({ toString: () => q }) as never

beforeEach(() => {
  vi.resetModules()
  localStorage.clear()
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('platform session', () => {
  it('logs in under its own key and ends at expiry without a refresh', async () => {
    const fetch = vi.fn().mockResolvedValueOnce(json({ accessToken: 'p-1', tokenType: 'Bearer', expiresIn: 600 }))
    vi.stubGlobal('fetch', fetch)
    const p = await import('@/api/platform')
    const ended = vi.fn()
    p.onPlatformSession(ended)
    await p.platformLogin(' saas ', 'pw')
    expect(fetch.mock.calls[0]![0]).toBe('/auth/platform/login')
    expect(JSON.parse(fetch.mock.calls[0]![1].body)).toEqual({ username: 'saas', password: 'pw' })
    expect(JSON.parse(localStorage.getItem(KEY)!).accessToken).toBe('p-1')
    expect(localStorage.getItem('voltledger.tokens')).toBeNull()
    expect(p.platformUser()).toBe('saas')
    await vi.advanceTimersByTimeAsync(600_000 + 10)
    expect(p.isPlatformLoggedIn()).toBe(false)
    expect(ended).toHaveBeenLastCalledWith(null, 'expired')
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('keeps the refusal\'s code and retry time', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValueOnce(json({ error: 'TOO_MANY_ATTEMPTS', retryAfter: 120 }, 429)))
    const p = await import('@/api/platform')
    await expect(p.platformLogin('saas', 'x')).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 120 })
    expect(localStorage.getItem(KEY)).toBeNull()
  })

  it('ignores the tenant portal\'s tokens', async () => {
    localStorage.setItem('voltledger.tokens', JSON.stringify({ accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 600_000 }))
    const p = await import('@/api/platform')
    expect(p.isPlatformLoggedIn()).toBe(false)
  })

  it('ends the session on UNAUTHENTICATED (expired) and FORBIDDEN (refused)', async () => {
    const session = JSON.stringify({ accessToken: 't', expiresAt: Date.now() + 600_000, username: 'saas' })
    localStorage.setItem(KEY, session)
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(json({ data: { platformTenants: [] } }))
      .mockResolvedValueOnce(json({ errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] }))
      .mockResolvedValueOnce(json({ errors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] }))
    vi.stubGlobal('fetch', fetch)
    const p = await import('@/api/platform')
    const ended = vi.fn()
    p.onPlatformSession(ended)
    expect(await p.platformRequest(doc('query PlatformTenants { platformTenants { id } }'), {})).toEqual({ platformTenants: [] })
    expect(fetch.mock.calls[0]![1].headers.Authorization).toBe('Bearer t')
    await expect(p.platformRequest(doc('query A { a }'), {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
    expect(ended).toHaveBeenLastCalledWith(null, 'expired')
    localStorage.setItem(KEY, session)
    await expect(p.platformRequest(doc('query A { a }'), {})).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(ended).toHaveBeenLastCalledWith(null, 'refused')
    expect(localStorage.getItem(KEY)).toBeNull()
  })

  it('logs out here and on the server', async () => {
    localStorage.setItem(KEY, JSON.stringify({ accessToken: 't', expiresAt: Date.now() + 600_000, username: 'saas' }))
    const fetch = vi.fn().mockResolvedValueOnce(new Response(null, { status: 204 }))
    vi.stubGlobal('fetch', fetch)
    const p = await import('@/api/platform')
    await p.platformLogout()
    expect(localStorage.getItem(KEY)).toBeNull()
    expect(fetch.mock.calls[0]![0]).toBe('/auth/platform/logout')
    expect(fetch.mock.calls[0]![1].headers.Authorization).toBe('Bearer t')
  })
})
