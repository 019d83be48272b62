// The real server the tests talk to, configured like the browser tests: VOLTLEDGER_URL (the
// API), VOLTLEDGER_DATA (its data directory, for the demo administrator's password), and
// where its WeChat and WeChat Pay stand-ins listen: VOLTLEDGER_WECHAT_STANDIN and
// VOLTLEDGER_PAY_STANDIN, or VOLTLEDGER_LOG (the `serve` output, which names both).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const BASE = (process.env.VOLTLEDGER_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
export const TENANT = process.env.VOLTLEDGER_TENANT ?? 'demo'
export const APPID = process.env.VOLTLEDGER_WECHAT_APPID ?? 'wxdemo0000000000'

function password() {
  if (process.env.VOLTLEDGER_PASSWORD) return process.env.VOLTLEDGER_PASSWORD
  const file = join(process.env.VOLTLEDGER_DATA ?? 'data', 'demo-admin.secret')
  if (!existsSync(file)) throw new Error(`set VOLTLEDGER_PASSWORD or VOLTLEDGER_DATA (no ${file})`)
  const secret = readFileSync(file, 'utf8').trim()
  return /^[0-9a-f]{32,}$/i.test(secret) ? `Demo-${secret.slice(0, 16)}` : secret
}

/** The stand-ins' bases, from the environment or the server's startup log. */
export function standIns() {
  let wechat = process.env.VOLTLEDGER_WECHAT_STANDIN
  let pay = process.env.VOLTLEDGER_PAY_STANDIN
  const log = process.env.VOLTLEDGER_LOG
  if ((!wechat || !pay) && log && existsSync(log)) {
    const text = readFileSync(log, 'utf8')
    // The last start in the log counts (a restarted server has new ports).
    const last = (re) => [...text.matchAll(re)].map((m) => m[1]).pop()
    wechat ??= last(/WeChat stand-in at (http:\/\/[^\s:]+:\d+)/g)
    pay ??= last(/WeChat Pay stand-in at (http:\/\/[^\s:]+:\d+)/g)
  }
  if (!wechat || !pay) {
    throw new Error(
      'the WeChat and WeChat Pay stand-ins are unknown: set VOLTLEDGER_LOG to the `voltledger serve` output ' +
        '(it prints "WeChat stand-in at …" and "WeChat Pay stand-in at …"), or VOLTLEDGER_WECHAT_STANDIN and VOLTLEDGER_PAY_STANDIN',
    )
  }
  return { wechat: wechat.replace(/\/$/, ''), pay: pay.replace(/\/$/, '') }
}

/** Fails with a clear message when no server answers at BASE. */
export async function serverUp() {
  try {
    const r = await fetch(`${BASE}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"query":"{__typename}"}' })
    await r.text()
  } catch (e) {
    throw new Error(
      `no VoltLedger server at ${BASE} (${e.cause?.code ?? e.message}): start one (voltledger serve --data-dir … --http …) ` +
        'and set VOLTLEDGER_URL, VOLTLEDGER_DATA and VOLTLEDGER_LOG',
    )
  }
}

export async function operatorToken() {
  const r = await fetch(`${BASE}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant: TENANT, username: process.env.VOLTLEDGER_USER ?? 'admin', password: password() }),
  })
  const body = await r.json()
  if (!r.ok) throw new Error(`operator login ${r.status}: ${JSON.stringify(body)}`)
  return body.accessToken
}

export async function gql(token, query, variables = {}) {
  const r = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  return r.json()
}

export async function q(token, query, variables = {}) {
  const r = await gql(token, query, variables)
  if (r.errors?.length) throw new Error(JSON.stringify(r.errors))
  return r.data
}
