// Refresh-token rotation: one refresh at a time, adopting another tab's rotation, signing out
// only when the server refuses the refresh token.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const KEY = 'voltledger.tokens'
function tokensResponse(n: number) {
  return new Response(JSON.stringify({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, tokenType: 'Bearer', expiresIn: 900 }), { status: 200 })
}

beforeEach(() => {
  vi.resetModules()
  localStorage.clear()
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('auth', () => {
  it('logs in, stores the tokens and refreshes a minute before expiry', async () => {
    const fetch = vi.fn().mockResolvedValueOnce(tokensResponse(1)).mockResolvedValueOnce(tokensResponse(2))
    vi.stubGlobal('fetch', fetch)
    const auth = await import('@/api/auth')
    await auth.login('demo', 'admin', 'pw')
    expect(JSON.parse(localStorage.getItem(KEY)!).accessToken).toBe('access-1')
    expect(fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(900_000 - 60_000 - 1_000)
    expect(fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(fetch.mock.calls[1]![0]).toBe('/auth/refresh')
    expect(JSON.parse(fetch.mock.calls[1]![1].body).refreshToken).toBe('refresh-1')
    expect(JSON.parse(localStorage.getItem(KEY)!).refreshToken).toBe('refresh-2')
  })

  it('sends one refresh for concurrent callers', async () => {
    localStorage.setItem(KEY, JSON.stringify({ accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 1_000 }))
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(tokensResponse(3)))
    vi.stubGlobal('fetch', fetch)
    const auth = await import('@/api/auth')
    const [a, b] = await Promise.all([auth.accessToken(), auth.accessToken()])
    expect(a).toBe('access-3')
    expect(b).toBe('access-3')
    expect(fetch.mock.calls.filter((c) => c[0] === '/auth/refresh')).toHaveLength(1)
  })

  it("adopts another tab's rotation instead of reusing a spent refresh token", async () => {
    localStorage.setItem(KEY, JSON.stringify({ accessToken: 'a', refreshToken: 'r-old', expiresAt: Date.now() + 1_000 }))
    const fetch = vi.fn()
    vi.stubGlobal('fetch', fetch)
    const auth = await import('@/api/auth')
    // Another tab rotated meanwhile.
    localStorage.setItem(KEY, JSON.stringify({ accessToken: 'a-new', refreshToken: 'r-new', expiresAt: Date.now() + 900_000 }))
    const t = await auth.refresh()
    expect(t?.accessToken).toBe('a-new')
    expect(fetch).not.toHaveBeenCalled()
  })

  it('signs out when the refresh token is refused, keeps the session on a server hiccup', async () => {
    localStorage.setItem(KEY, JSON.stringify({ accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 1_000 }))
    const fetch = vi.fn().mockResolvedValueOnce(new Response('', { status: 503 }))
    vi.stubGlobal('fetch', fetch)
    const auth = await import('@/api/auth')
    await expect(auth.refresh()).rejects.toBeInstanceOf(auth.AuthError)
    expect(auth.isLoggedIn()).toBe(true)

    fetch.mockResolvedValueOnce(new Response(JSON.stringify({ error: 'REFRESH_TOKEN_REUSED', message: 'used' }), { status: 401 }))
    await expect(auth.refresh()).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' })
    expect(auth.isLoggedIn()).toBe(false)
    expect(localStorage.getItem(KEY)).toBeNull()
  })

  it('reports throttled logins with the wait', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(JSON.stringify({ error: 'TOO_MANY_ATTEMPTS', message: 'later', retryAfter: 300 }), { status: 429 })))
    const auth = await import('@/api/auth')
    await expect(auth.login('demo', 'admin', 'x')).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 300 })
  })
})
