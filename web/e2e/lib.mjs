// Shared helpers for the browser tests: configuration from the environment, direct API calls
// with the same token the UI uses, a headless Chromium (Debian's, via playwright-core), and
// screenshots into docs/portal/.
import { chromium } from 'playwright-core'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const BASE = (process.env.VOLTLEDGER_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
export const TENANT = process.env.VOLTLEDGER_TENANT ?? 'demo'
export const USER = process.env.VOLTLEDGER_USER ?? 'admin'
export const SHOTS = resolve(here, '../../docs/portal')

/** The demo administrator's password: given, or derived from the server's data directory. */
export function password() {
  if (process.env.VOLTLEDGER_PASSWORD) return process.env.VOLTLEDGER_PASSWORD
  const dir = process.env.VOLTLEDGER_DATA ?? 'data'
  const file = join(dir, 'demo-admin.secret')
  if (!existsSync(file)) throw new Error(`set VOLTLEDGER_PASSWORD or VOLTLEDGER_DATA (no ${file})`)
  const secret = readFileSync(file, 'utf8').trim()
  // The server prints "Demo-" and the first 16 characters of the generated secret.
  return /^[0-9a-f]{32,}$/i.test(secret) ? `Demo-${secret.slice(0, 16)}` : secret
}

/** The demo platform operator's password (`saas`): given, or derived like the admin's. */
export function platformPassword() {
  if (process.env.VOLTLEDGER_PLATFORM_PASSWORD) return process.env.VOLTLEDGER_PLATFORM_PASSWORD
  const file = join(process.env.VOLTLEDGER_DATA ?? 'data', 'demo-platform.secret')
  if (!existsSync(file)) throw new Error(`set VOLTLEDGER_PLATFORM_PASSWORD or VOLTLEDGER_DATA (no ${file})`)
  const secret = readFileSync(file, 'utf8').trim()
  return /^[0-9a-f]{32,}$/i.test(secret) ? `Saas-${secret.slice(0, 16)}` : secret
}

export async function retry(fn, { tries = 20, delay = 1500 } = {}) {
  let last
  for (let i = 0; i < tries; i++) {
    try {
      return await fn()
    } catch (e) {
      last = e
      await new Promise((r) => setTimeout(r, delay))
    }
  }
  throw last
}

export async function apiLogin(username = USER, pass = password(), tenant = TENANT) {
  return retry(async () => {
    const res = await fetch(`${BASE}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant, username, password: pass }),
    })
    const body = await res.json()
    if (!res.ok) throw Object.assign(new Error(`login ${res.status}: ${JSON.stringify(body)}`), { body, status: res.status })
    return body
  }, { tries: username === USER ? 20 : 1 })
}

/** A GraphQL call; returns `{ data, errors }` as the server sent them. */
export async function gql(token, query, variables = {}) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  return res.json()
}

/** A GraphQL call that must succeed. */
export async function q(token, query, variables = {}) {
  const r = await gql(token, query, variables)
  if (r.errors?.length) throw new Error(JSON.stringify(r.errors))
  return r.data
}

export async function browser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}

/** A page at 1440×900 in `lang`, already holding the tokens of `tokens` (or none). */
export async function page(b, { lang = 'zh-CN', tokens = null } = {}) {
  const ctx = await b.newContext({ viewport: { width: 1440, height: 900 }, locale: lang, timezoneId: 'Asia/Shanghai' })
  await ctx.addInitScript(
    ([l, t]) => {
      // Sandboxed frames (the price notice) have no storage.
      if (window.origin === 'null') return
      if (!sessionStorage.getItem('e2e-init')) {
        sessionStorage.setItem('e2e-init', '1')
        localStorage.setItem('voltledger.lang', l)
        if (t) localStorage.setItem('voltledger.tokens', JSON.stringify({ accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: Date.now() + t.expiresIn * 1000 }))
      }
    },
    [lang, tokens],
  )
  const p = await ctx.newPage()
  p.on('pageerror', (e) => console.error('page error:', e.message))
  return p
}

export async function shot(p, name, lang = 'zh-CN') {
  mkdirSync(SHOTS, { recursive: true })
  await p.waitForTimeout(600)
  await p.screenshot({ path: join(SHOTS, `${name}-${lang}.png`) })
}

/** Logs in through the form. */
export async function uiLogin(p, { username = USER, pass = password(), tenant = TENANT } = {}) {
  await p.goto(`${BASE}/login`)
  await p.fill('input[name=tenant]', tenant)
  await p.fill('input[name=username]', username)
  await p.fill('input[name=password]', pass)
  await p.click('[data-test=login-submit]')
}

/** Waits until `fn` returns a truthy value (polling), or fails after `timeout` ms. */
export async function until(fn, { timeout = 60_000, every = 2000, what = 'condition' } = {}) {
  const end = Date.now() + timeout
  let last
  while (Date.now() < end) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, every))
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
}
