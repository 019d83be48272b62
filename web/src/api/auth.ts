// Login, refresh and logout against the token endpoints (`/auth/*`).
import { fromResponse, isStale, load, refreshDelay, save, STORAGE_KEY, type Tokens } from './tokens'

/** A refusal from a token endpoint: `code` is the server's `error` field. */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}

type Listener = (t: Tokens | null) => void
const listeners = new Set<Listener>()
let current: Tokens | null = load()
let timer: ReturnType<typeof setTimeout> | undefined
let inflight: Promise<Tokens | null> | null = null

export function onTokens(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

function set(t: Tokens | null) {
  const changed = t?.accessToken !== current?.accessToken
  current = t
  save(t)
  schedule()
  if (changed) listeners.forEach((l) => l(t))
}

function schedule() {
  if (timer) clearTimeout(timer)
  timer = undefined
  if (!current) return
  timer = setTimeout(() => void refresh().catch(() => undefined), refreshDelay(current.expiresAt, Date.now()))
}

// Another tab logged in, refreshed or logged out: follow it.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key !== STORAGE_KEY) return
    const t = load()
    current = t
    schedule()
    listeners.forEach((l) => l(t))
  })
}

/** Where the login form remembers the company code (公司代码) it last signed in with. */
export const TENANT_KEY = 'voltledger.tenant'

/**
 * The company code of the signed-in tenant as the login form stored it, or '' when this
 * browser never signed in through the form (the API's `Tenant` has no slug to ask).
 */
export function rememberedTenant(): string {
  try {
    return (localStorage.getItem(TENANT_KEY) ?? '').trim()
  } catch {
    return ''
  }
}

/** What the customers' mobile pages read before anyone signs in (`GET /auth/customer-config`). */
export interface CustomerConfig {
  tenant: string
  officialAccount: { appId: string; authorizeUrl: string } | null
  wechatPay: boolean
  alipay: boolean
}

/** The mobile pages' configuration for a company code; an `AuthError` (NOT_FOUND, FORBIDDEN…) if refused. */
export async function customerConfig(tenant: string, signal?: AbortSignal): Promise<CustomerConfig> {
  let res: Response
  try {
    res = await fetch(`/auth/customer-config?tenant=${encodeURIComponent(tenant)}`, { signal })
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw e
    throw new AuthError('NETWORK', 'network error')
  }
  if (!res.ok) throw await readError(res)
  return (await res.json()) as CustomerConfig
}

async function readError(res: Response): Promise<AuthError> {
  let body: { error?: string; message?: string; retryAfter?: number } = {}
  try {
    body = await res.json()
  } catch {
    /* an empty body (a throttled refresh) */
  }
  const retry = body.retryAfter ?? (Number(res.headers.get('Retry-After')) || undefined)
  const code = body.error ?? (res.status === 429 ? 'TOO_MANY_ATTEMPTS' : res.status >= 500 ? 'INTERNAL' : 'HTTP_' + res.status)
  return new AuthError(code, body.message ?? res.statusText, retry)
}

export async function login(tenant: string, username: string, password: string): Promise<Tokens> {
  let res: Response
  try {
    res = await fetch('/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant: tenant.trim(), username: username.trim(), password }),
    })
  } catch {
    throw new AuthError('NETWORK', 'network error')
  }
  if (!res.ok) throw await readError(res)
  const t = fromResponse(await res.json(), Date.now())
  set(t)
  return t
}

async function rotate(): Promise<Tokens | null> {
  // Inside the lock: another tab may have rotated while we waited — use its tokens.
  const stored = load()
  if (stored && current && stored.refreshToken !== current.refreshToken) {
    current = stored
    if (!isStale(stored, Date.now())) {
      schedule()
      listeners.forEach((l) => l(stored))
      return stored
    }
  }
  const t = current ?? stored
  if (!t) return null
  const res = await fetch('/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refreshToken: t.refreshToken }),
  })
  if (res.status === 401) {
    set(null)
    throw await readError(res)
  }
  if (!res.ok) {
    // Throttled or a server hiccup: keep the tokens and try again shortly.
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void refresh().catch(() => undefined), 10_000)
    throw await readError(res)
  }
  const next = fromResponse(await res.json(), Date.now())
  set(next)
  return next
}

/** Rotates the refresh token (once at a time across tabs). */
export function refresh(): Promise<Tokens | null> {
  if (inflight) return inflight
  const run = async () => {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
    if (locks) return locks.request('voltledger-refresh', rotate)
    return rotate()
  }
  inflight = run().finally(() => {
    inflight = null
  })
  return inflight
}

/** An access token fit to send, refreshing first if it is about to expire. */
export async function accessToken(): Promise<string | null> {
  if (!current) current = load()
  if (!current) return null
  if (isStale(current, Date.now())) {
    // A failed refresh that kept the tokens (network, throttling) still sends the old token:
    // the server decides, and the user is not signed out over a hiccup.
    const t = await refresh().catch(() => null)
    return t?.accessToken ?? current?.accessToken ?? null
  }
  return current.accessToken
}

export function isLoggedIn(): boolean {
  return !!(current ?? load())
}

export async function logout(): Promise<void> {
  const t = current
  set(null)
  if (t) {
    await fetch('/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${t.accessToken}` } }).catch(() => undefined)
  }
}


schedule()
