// The SaaS operator's session (平台运营), kept apart from the tenant operators': its own
// storage key, its own login and logout endpoints (`/auth/platform/*`), no refresh token (when
// the access token expires the console goes back to its login page), and its own GraphQL
// client. A tenant token never reaches these calls and this token never reaches the portal's.
import { AuthError } from './auth'
import { GraphQLRequestError, type ServerError, type TypedDocument } from './graphql'

export interface PlatformSession {
  accessToken: string
  /** Epoch ms when the access token expires. */
  expiresAt: number
  /** The name the operator signed in with (the API has no `me` for the platform). */
  username: string
}

export const PLATFORM_KEY = 'voltledger.platform'

export function loadPlatform(now = Date.now()): PlatformSession | null {
  try {
    const raw = localStorage.getItem(PLATFORM_KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as PlatformSession
    if (!s || typeof s.accessToken !== 'string' || typeof s.expiresAt !== 'number') return null
    return s.expiresAt > now ? s : null
  } catch {
    return null
  }
}

function save(s: PlatformSession | null) {
  if (s) localStorage.setItem(PLATFORM_KEY, JSON.stringify(s))
  else localStorage.removeItem(PLATFORM_KEY)
}

/** Why a session ended without a logout: expired (or revoked), or refused as not the platform's. */
export type EndReason = 'expired' | 'refused'
type Listener = (s: PlatformSession | null, reason: EndReason) => void
const listeners = new Set<Listener>()
let timer: ReturnType<typeof setTimeout> | undefined

/** Called with the session after a login, and with null on logout or expiry (this tab or another). */
export function onPlatformSession(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

function set(s: PlatformSession | null, reason: EndReason = 'expired') {
  save(s)
  schedule(s)
  listeners.forEach((l) => l(s, reason))
}

function schedule(s: PlatformSession | null) {
  if (timer) clearTimeout(timer)
  timer = undefined
  if (!s) return
  // setTimeout holds at most ~24.8 days; tokens live far shorter.
  timer = setTimeout(() => set(null), Math.min(Math.max(0, s.expiresAt - Date.now()), 2 ** 31 - 1))
}

if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key !== PLATFORM_KEY) return
    const s = loadPlatform()
    schedule(s)
    listeners.forEach((l) => l(s, 'expired'))
  })
  schedule(loadPlatform())
}

/** Ends the console session here (a token the console finds is not the platform's). */
export function dropPlatformSession(reason: EndReason) {
  set(null, reason)
}

export function isPlatformLoggedIn(): boolean {
  return !!loadPlatform()
}

export function platformUser(): string {
  return loadPlatform()?.username ?? ''
}

async function readError(res: Response): Promise<AuthError> {
  let body: { error?: string; message?: string; retryAfter?: number } = {}
  try {
    body = await res.json()
  } catch {
    /* no body */
  }
  const retry = body.retryAfter ?? (Number(res.headers.get('Retry-After')) || undefined)
  const code = body.error ?? (res.status === 429 ? 'TOO_MANY_ATTEMPTS' : res.status >= 500 ? 'INTERNAL' : 'HTTP_' + res.status)
  return new AuthError(code, body.message ?? res.statusText, retry)
}

export async function platformLogin(username: string, password: string): Promise<PlatformSession> {
  let res: Response
  try {
    res = await fetch('/auth/platform/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: username.trim(), password }),
    })
  } catch {
    throw new AuthError('NETWORK', 'network error')
  }
  if (!res.ok) throw await readError(res)
  const body = (await res.json()) as { accessToken: string; expiresIn: number }
  const s: PlatformSession = { accessToken: body.accessToken, expiresAt: Date.now() + body.expiresIn * 1000, username: username.trim() }
  set(s)
  return s
}

/** Ends the session here at once, and on the server (which refuses the token afterwards). */
export async function platformLogout(): Promise<void> {
  const s = loadPlatform()
  set(null)
  if (s) {
    await fetch('/auth/platform/logout', { method: 'POST', headers: { Authorization: `Bearer ${s.accessToken}` } }).catch(() => undefined)
  }
}

interface RawError {
  message: string
  path?: (string | number)[]
  extensions?: { code?: string; field?: string }
}

/** A typed GraphQL call with the platform token; UNAUTHENTICATED ends the console session. */
export async function platformRequest<TResult, TVariables>(
  doc: TypedDocument<TResult, TVariables>,
  ...[variables, opts]: TVariables extends Record<string, never> ? [TVariables?, { signal?: AbortSignal }?] : [TVariables, { signal?: AbortSignal }?]
): Promise<TResult> {
  const query = doc.toString()
  const s = loadPlatform()
  const operationName = /^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1]
  let res: Response
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(s ? { Authorization: `Bearer ${s.accessToken}` } : {}) },
      body: JSON.stringify({ query, variables: variables ?? {}, operationName }),
      signal: opts?.signal,
    })
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new GraphQLRequestError([{ message: 'network error', code: 'NETWORK' }])
  }
  let body: { data?: TResult; errors?: RawError[] } = {}
  try {
    body = await res.json()
  } catch {
    throw new GraphQLRequestError([{ message: `HTTP ${res.status}`, code: res.status >= 500 ? 'INTERNAL' : 'HTTP_' + res.status }])
  }
  const errors: ServerError[] = (body.errors ?? []).map((e) => ({ message: e.message, code: e.extensions?.code ?? 'ERROR', field: e.extensions?.field, path: e.path }))
  if (errors.some((e) => e.code === 'UNAUTHENTICATED')) set(null)
  // Every console operation is the platform's: FORBIDDEN means the token is not a platform
  // operator's (a tenant operator's token put in the console's place), so the session ends.
  else if (errors.some((e) => e.code === 'FORBIDDEN')) set(null, 'refused')
  if (errors.length > 0) throw new GraphQLRequestError(errors)
  if (!body.data) throw new GraphQLRequestError([{ message: 'empty answer', code: 'INTERNAL' }])
  return body.data
}

/** `GET /healthz` or `/readyz`: the plain-text answer and its status, or the network failure. */
export async function probe(path: '/healthz' | '/readyz'): Promise<{ ok: boolean; status: number; text: string; ms: number }> {
  const start = performance.now()
  try {
    const res = await fetch(path, { cache: 'no-store' })
    const text = (await res.text()).trim()
    return { ok: res.ok, status: res.status, text: text.slice(0, 200), ms: Math.round(performance.now() - start) }
  } catch {
    return { ok: false, status: 0, text: '', ms: Math.round(performance.now() - start) }
  }
}
