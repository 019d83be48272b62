// The session: the access token is refreshed before it expires (live updates reconnect with
// the new one), and logging out ends the session on the server.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, page, until } from './lib.mjs'

let b
before(async () => {
  b = await browser()
})
after(async () => {
  await b?.close()
})

test('refresh before expiry, then log out', async () => {
  const tokens = await apiLogin()
  const p = await page(b, { tokens })
  await p.goto(`${BASE}/dashboard`)
  await p.waitForSelector('[data-stat="meters.total"] >> text=/\\d+/')
  await until(async () => (await p.locator('[data-test=live-dot].on').count()) === 1, { timeout: 20_000, every: 500, what: 'the live socket' })

  // Pretend the access token expires in 12 s: the client refreshes ahead of it.
  await p.evaluate(() => {
    const t = JSON.parse(localStorage.getItem('voltledger.tokens'))
    t.expiresAt = Date.now() + 12_000
    localStorage.setItem('voltledger.tokens', JSON.stringify(t))
  })
  await p.reload()
  await p.waitForSelector('[data-stat="meters.total"] >> text=/\\d+/')
  const rotated = await until(
    async () => {
      const t = await p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.tokens')))
      return t.refreshToken !== tokens.refreshToken && t.expiresAt - Date.now() > 600_000 ? t : null
    },
    { timeout: 30_000, every: 1000, what: 'the refresh token to rotate' },
  )
  assert.notEqual(rotated.accessToken, tokens.accessToken)
  // The socket is opened again with the new token.
  await until(async () => (await p.locator('[data-test=live-dot].on').count()) === 1, { timeout: 20_000, every: 500, what: 'the live socket after refresh' })
  await p.click('[data-menu=monitor]')
  await p.waitForSelector('[data-meter]')

  // Log out: back to the login page, and the server no longer takes the refresh token.
  await p.click('[data-test=user-menu]')
  await p.click('[data-test=logout]')
  await p.waitForURL(/\/login/)
  const res = await fetch(`${BASE}/auth/refresh`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken: rotated.refreshToken }) })
  assert.equal(res.status, 401)
  await p.close()
})
