// Official-account OAuth (网页授权, snsapi_base) in WeChat's browser: the page sends the browser
// to WeChat's authorize URL with a random `state`, WeChat sends it back to `redirect_uri` with
// `code` and the same `state`. The state is kept here until that return and used once: a
// return whose state is missing, unknown, reused or older than ten minutes is refused (it may
// be a link someone else crafted to sign the customer in as them — login CSRF), and so is a
// return without a code (the customer declined).

/** What the page keeps between leaving for WeChat and coming back. */
export interface StateStore {
  getItem(key: string): string
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

const KEY = 'oauth'
/** How long a started sign-in may take before its state no longer counts (ms). */
export const STATE_TTL_MS = 10 * 60 * 1000

export interface OfficialAccount {
  appId: string
  authorizeUrl: string
}

/** A random state: 16 bytes from the browser's CSPRNG, as hex. */
export function randomState(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** WeChat's authorize URL, with its parameters in the order WeChat documents and `#wechat_redirect`. */
export function authorizeUrl(oa: OfficialAccount, redirectUri: string, state: string): string {
  const q = [
    `appid=${encodeURIComponent(oa.appId)}`,
    `redirect_uri=${encodeURIComponent(redirectUri)}`,
    'response_type=code',
    'scope=snsapi_base',
    `state=${encodeURIComponent(state)}`,
  ].join('&')
  const base = oa.authorizeUrl.split('#')[0] ?? ''
  return `${base}${base.includes('?') ? '&' : '?'}${q}#wechat_redirect`
}

/** Starts a sign-in: remembers a fresh state and gives the URL to send the browser to. */
export function beginOAuth(oa: OfficialAccount, redirectUri: string, store: StateStore, now = Date.now(), state = randomState()): string {
  store.setItem(KEY, JSON.stringify({ state, at: now }))
  return authorizeUrl(oa, redirectUri, state)
}

export type OAuthReturn =
  /** Not a return from WeChat (no `code`, no `state`). */
  | { kind: 'none' }
  | { kind: 'code'; code: string }
  /** Back without a code: the customer did not allow it. */
  | { kind: 'denied' }
  /** The state is not the one this page started with (or is stale, or was used). */
  | { kind: 'bad-state' }

/** Reads a return from WeChat in `search` (`?code=…&state=…`); the kept state is used up. */
export function takeOAuthReturn(search: string, store: StateStore, now = Date.now()): OAuthReturn {
  const params = new URLSearchParams(search)
  const code = params.get('code')
  const state = params.get('state')
  if (code === null && state === null) return { kind: 'none' }
  const raw = store.getItem(KEY)
  store.removeItem(KEY)
  let kept: { state?: unknown; at?: unknown } = {}
  try {
    kept = raw ? JSON.parse(raw) : {}
  } catch {
    kept = {}
  }
  const fresh = typeof kept.at === 'number' && now - kept.at >= 0 && now - kept.at <= STATE_TTL_MS
  if (!state || typeof kept.state !== 'string' || kept.state !== state || !fresh) return { kind: 'bad-state' }
  if (!code) return { kind: 'denied' }
  return { kind: 'code', code }
}

/** The URL without WeChat's `code` and `state` (to replace the address shown once they are used). */
export function withoutOAuthParams(url: string): string {
  const u = new URL(url)
  u.searchParams.delete('code')
  u.searchParams.delete('state')
  return u.pathname + (u.searchParams.toString() ? `?${u.searchParams}` : '') + u.hash
}
