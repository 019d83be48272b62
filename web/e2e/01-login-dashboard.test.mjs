// Log in (a wrong password first), then the overview's numbers must be the API's `overview`.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, browser, page, password, q, shot, uiLogin, until } from './lib.mjs'

let b
before(async () => {
  b = await browser()
})
after(async () => {
  await b?.close()
})

const OVERVIEW = `query($p: ID) { overview(propertyId: $p) {
  meters { total notOpened closed tripped holdPower prepaid postpaid online lost neverSeen }
  gateways { total online lost neverSeen }
  energyThisMonth energyLastMonth salesThisMonth salesLastMonth activeAlarms } }`

const money = (s) => Number(s).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

test('a wrong password shows the server refusal, the right one opens the overview', async () => {
  const p = await page(b)
  await p.goto(`${BASE}/login`)
  await shot(p, 'login')
  await uiLogin(p, { pass: 'wrong-password' })
  const err = await p.waitForSelector('[data-test=login-error]')
  assert.match(await err.innerText(), /公司代码、用户名或密码错误/)

  await uiLogin(p, { pass: password() })
  await p.waitForURL(/\/dashboard/)
  await p.waitForSelector('[data-stat="meters.total"] >> text=/\\d+/')
  const tokens = await p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.tokens')))
  assert.ok(tokens.accessToken && tokens.refreshToken)

  let lastDiff = ''
  // The DOM against the API with the same token; counts move with the simulator, so compare
  // snapshots taken close together and retry on a race.
  await until(
    async () => {
      const dom = await p.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-stat]')].map((e) => [e.getAttribute('data-stat'), e.textContent.trim()])))
      const api = (await q(tokens.accessToken, OVERVIEW, { p: null })).overview
      const want = {
        'meters.total': String(api.meters.total),
        'meters.closed': String(api.meters.closed),
        'meters.tripped': String(api.meters.tripped),
        'meters.holdPower': String(api.meters.holdPower),
        'meters.notOpened': String(api.meters.notOpened),
        'meters.prepaid': String(api.meters.prepaid),
        'meters.postpaid': String(api.meters.postpaid),
        'meters.online': String(api.meters.online),
        'meters.lost': String(api.meters.lost),
        'meters.neverSeen': String(api.meters.neverSeen),
        'gateways.online': String(api.gateways.online),
        'gateways.lost': String(api.gateways.lost),
        'gateways.total': String(api.gateways.total),
        activeAlarms: String(api.activeAlarms),
        salesThisMonth: money(api.salesThisMonth),
        salesLastMonth: money(api.salesLastMonth),
        energyLastMonth: money(api.energyLastMonth),
      }
      const diff = Object.entries(want).filter(([k, v]) => dom[k] !== v)
      lastDiff = diff.map(([k, v]) => `${k}: DOM ${dom[k]} API ${v}`).join('; ')
      if (diff.length > 0) {
        await p.click('.dashboard .toolbar button:has-text("刷新")')
        await p.waitForTimeout(1500)
        return false
      }
      return true
    },
    { timeout: 45_000, every: 500, what: 'dashboard numbers to equal the API overview' },
  ).catch((e) => {
    throw new Error(`${e.message}: ${lastDiff}`)
  })
  await p.waitForTimeout(800)
  await shot(p, 'dashboard')

  // English: every label translated, the same numbers.
  await p.evaluate(() => localStorage.setItem('voltledger.lang', 'en-US'))
  await p.reload()
  await p.waitForSelector('text=Meter states')
  await p.waitForSelector('[data-stat="meters.total"] >> text=/\\d+/')
  await shot(p, 'dashboard', 'en-US')
  await p.evaluate(() => localStorage.setItem('voltledger.lang', 'zh-CN'))
  await p.close()
})
