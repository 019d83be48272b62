// The platform's HTTPS API: `POST /auth/wechat` (wx.login code -> tokens), `POST /auth/refresh`
// (a refresh token works once and brings the next one), and `POST /graphql` with the bearer
// token. The mobile pages (web/mobile) sign in through the same module: `POST /auth/wechat-oa`
// (an official-account OAuth code, in WeChat's browser) or `POST /auth/binding-code` (account
// number + binding code, elsewhere), after `GET /auth/customer-config`. Every failure becomes
// an `ApiError` saying whose it was: the network, WeChat, the session, or the server refusing
// with its own message.

import { getConfig } from '../config'
import { platform, WxError } from './platform'

export type ErrorKind = 'network' | 'wechat' | 'session' | 'server'

export class ApiError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** The server's error code (`VALIDATION`, `FORBIDDEN`, `WECHAT_REFUSED`…). */
    readonly code = '',
    /** For `VALIDATION`: the input field the server names. */
    readonly field = '',
  ) {
    super(message)
  }
}

interface Tokens {
  accessToken: string
  refreshToken: string
  /** Epoch ms when the access token expires. */
  expiresAt: number
}

const TOKENS = 'voltledger.tokens'

function loadTokens(): Tokens | null {
  const raw = platform().getItem(TOKENS)
  if (!raw) return null
  try {
    const t = JSON.parse(raw) as Tokens
    return t.accessToken && t.refreshToken ? t : null
  } catch {
    return null
  }
}

function saveTokens(body: unknown): Tokens {
  const b = body as { accessToken?: string; refreshToken?: string; expiresIn?: number }
  if (!b || !b.accessToken || !b.refreshToken) throw new ApiError('server', 'the server sent no tokens')
  const t = { accessToken: b.accessToken, refreshToken: b.refreshToken, expiresAt: Date.now() + (b.expiresIn || 900) * 1000 }
  platform().setItem(TOKENS, JSON.stringify(t))
  return t
}

export function signedIn(): boolean {
  return loadTokens() !== null
}

export function signOut(): void {
  platform().removeItem(TOKENS)
}

async function post(path: string, body: unknown, token?: string, method: 'GET' | 'POST' = 'POST') {
  const header: Record<string, string> = method === 'POST' ? { 'Content-Type': 'application/json' } : {}
  if (token) header.Authorization = `Bearer ${token}`
  try {
    return await platform().request(`${getConfig().apiBase}${path}`, method, body, header)
  } catch (e) {
    // wx.request fails only when no answer came back (offline, DNS, TLS, timeout).
    const msg = e instanceof WxError ? e.errMsg : String(e)
    throw new ApiError('network', msg)
  }
}

function refusal(status: number, data: unknown): ApiError {
  const d = (data || {}) as { error?: string; message?: string }
  const kind: ErrorKind = d.error === 'WECHAT_REFUSED' || d.error === 'WECHAT_UNAVAILABLE' ? 'wechat' : 'server'
  return new ApiError(kind, d.message || `HTTP ${status}`, d.error || String(status))
}

/** `wx.login` and `POST /auth/wechat`: a session for this WeChat user. */
export async function loginWithWechat(): Promise<void> {
  let code: string
  try {
    code = await platform().login()
  } catch (e) {
    throw new ApiError('wechat', e instanceof WxError ? e.errMsg : String(e))
  }
  const r = await post('/auth/wechat', { tenant: getConfig().tenant, code })
  if (r.statusCode !== 200) throw refusal(r.statusCode, r.data)
  saveTokens(r.data)
}

/** What the mobile pages need to know before signing in (`GET /auth/customer-config`). */
export interface CustomerConfig {
  /** The company's name. */
  tenant: string
  /** Null when the company has no official account (no OAuth login, no WeChat Pay in WeChat's browser). */
  officialAccount: { appId: string; authorizeUrl: string } | null
  wechatPay: boolean
  alipay: boolean
}

export async function customerConfig(): Promise<CustomerConfig> {
  const r = await post(`/auth/customer-config?tenant=${encodeURIComponent(getConfig().tenant)}`, undefined, undefined, 'GET')
  if (r.statusCode !== 200) throw refusal(r.statusCode, r.data)
  const d = (r.data || {}) as Partial<CustomerConfig>
  return { tenant: d.tenant || '', officialAccount: d.officialAccount || null, wechatPay: !!d.wechatPay, alipay: !!d.alipay }
}

/** Mobile pages in WeChat's browser: the official account's OAuth `code` -> tokens. */
export async function loginWithOfficialAccount(code: string): Promise<void> {
  const r = await post('/auth/wechat-oa', { tenant: getConfig().tenant, code })
  if (r.statusCode !== 200) throw refusal(r.statusCode, r.data)
  saveTokens(r.data)
}

/** Mobile pages elsewhere: the account number and the binding code the property printed -> tokens. */
export async function loginWithBindingCode(accountNumber: string, bindingCode: string): Promise<void> {
  const r = await post('/auth/binding-code', { tenant: getConfig().tenant, accountNumber, bindingCode })
  if (r.statusCode !== 200) throw refusal(r.statusCode, r.data)
  saveTokens(r.data)
}

/** Ends the session on the server (best effort) and forgets the tokens. */
export async function logout(): Promise<void> {
  const t = loadTokens()
  signOut()
  if (t) await endSession(t.accessToken)
}

/** The current access token (to end that session after another sign-in replaced it). */
export function currentAccessToken(): string {
  const t = loadTokens()
  return t ? t.accessToken : ''
}

/** Ends a session on the server by its access token (best effort: offline, it expires on its own). */
export async function endSession(accessToken: string): Promise<void> {
  if (!accessToken) return
  try {
    await post('/auth/logout', {}, accessToken)
  } catch {
    // No connection: the refresh token expires on its own.
  }
}

let refreshing: Promise<Tokens> | null = null

/** One refresh at a time: a refresh token works once, a second use ends the session. */
function refresh(t: Tokens): Promise<Tokens> {
  if (!refreshing) {
    refreshing = (async () => {
      const r = await post('/auth/refresh', { refreshToken: t.refreshToken })
      if (r.statusCode !== 200) {
        signOut()
        throw new ApiError('session', refusal(r.statusCode, r.data).message, 'UNAUTHENTICATED')
      }
      return saveTokens(r.data)
    })().finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

interface GqlError {
  message: string
  extensions?: { code?: string; field?: string }
}

/** A GraphQL call; the data, or an `ApiError` with the server's message. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let t = loadTokens()
  if (!t) throw new ApiError('session', 'not signed in', 'UNAUTHENTICATED')
  if (t.expiresAt - Date.now() < 30000) t = await refresh(t)
  for (let attempt = 0; ; attempt++) {
    const r = await post('/graphql', { query, variables }, t.accessToken)
    const body = (r.data || {}) as { data?: T; errors?: GqlError[] }
    const first = body.errors && body.errors[0]
    const unauthenticated = r.statusCode === 401 || (first && first.extensions && first.extensions.code === 'UNAUTHENTICATED')
    if (unauthenticated && attempt === 0) {
      t = await refresh(t)
      continue
    }
    if (unauthenticated) throw new ApiError('session', first ? first.message : 'authentication required', 'UNAUTHENTICATED')
    if (first) {
      const ext = first.extensions || {}
      return Promise.reject(new ApiError('server', first.message, ext.code || '', ext.field || ''))
    }
    if (r.statusCode !== 200 || !body.data) throw refusal(r.statusCode, r.data)
    return body.data
  }
}
