// The SaaS operator's console (/console): a wrong platform password refused; the tenants list
// against `platformTenants`; a tenant created (a bad company code refused under its field,
// nothing created); its first administrator signed in to the portal in a second browser;
// the tenant suspended from the console after a confirmation (a cancelled one changes nothing):
// that administrator's next API call and a fresh login refused; reactivated, the login works
// again; health figures against `platformHealth` and the probes; the payment provider against
// `paymentProvider` (a bad merchant number refused, nothing changed); the sessions kept apart
// (a tenant token refused by the console's queries and not taken by the console, the
// console's token not a tenant session); logout and the old console token refused.
// Only the tenant this run creates is ever suspended, and it is reactivated even when an
// assertion fails (tenants cannot be deleted: unique company codes per run).
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, platformPassword, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const slug = `e2e-${stamp}`
const tenantName = `E2E 物业 ${stamp}`
const adminPass = `Vl-${stamp}-Kx9#`
const PLATFORM_USER = process.env.VOLTLEDGER_PLATFORM_USER ?? 'saas'
const TENANTS = `{ platformTenants { id name slug timeZone status } }`

let b
let demo // the demo tenant's admin (tenant session)
let consolePage // the console, signed in through its form
let consoleToken // that page's platform token

const fill = (p, sel, value) => p.fill(`input[data-test="${sel}"], [data-test="${sel}"] input`, value)
const val = (p, sel) => p.inputValue(`input[data-test="${sel}"], [data-test="${sel}"] input`)
const box = (p) => p.waitForSelector('.el-message-box', { state: 'visible' })
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const cancelBox = (p) => p.click('.el-message-box__btns .el-button:not(.el-button--primary)')

async function platformApiLogin(username = PLATFORM_USER, password = platformPassword()) {
  const res = await fetch(`${BASE}/auth/platform/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  return { status: res.status, body: await res.json().catch(() => ({})) }
}
async function tenantLogin(tenant, username, password) {
  const res = await fetch(`${BASE}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tenant, username, password }) })
  return { status: res.status, body: await res.json().catch(() => ({})) }
}
const platformTenants = async (token) => (await q(token, TENANTS)).platformTenants
const ours = async (token) => (await platformTenants(token)).find((x) => x.slug === slug)
const row = (p) => p.locator('[data-test=tenant-table] .el-table__body-wrapper tr', { has: p.locator(`[data-tenant="${slug}"]`) })

before(async () => {
  b = await browser()
  demo = await apiLogin()
})
after(async () => {
  // Whatever failed: the tenant this run created is active again at the end.
  try {
    const r = await platformApiLogin()
    if (r.status === 200) {
      const t = r.body.accessToken
      const mine = await ours(t).catch(() => null)
      if (mine?.status === 'SUSPENDED') await q(t, `mutation($s: String!) { reactivateTenant(input: { slug: $s }) { status } }`, { s: slug })
      await fetch(`${BASE}/auth/platform/logout`, { method: 'POST', headers: { Authorization: `Bearer ${t}` } })
    }
  } finally {
    await b?.close()
  }
})

test('a wrong platform password is refused; the operator signs in to the console', async () => {
  const refused = await platformApiLogin(PLATFORM_USER, 'Wrong-password-1')
  assert.equal(refused.status, 401)
  assert.equal(refused.body.error, 'INVALID_CREDENTIALS')

  const p = await page(b)
  consolePage = p
  await p.goto(`${BASE}/console`)
  await p.waitForURL(/\/console\/login/)
  await p.waitForSelector('[data-test=console-login-submit]')
  await shot(p, 'console-login')
  await p.fill('input[name=username]', PLATFORM_USER)
  await p.fill('input[name=password]', 'Wrong-password-1')
  await p.click('[data-test=console-login-submit]')
  const err = await p.waitForSelector('[data-test=console-login-error]')
  assert.match(await err.innerText(), /用户名或密码错误/)
  assert.match(p.url(), /\/console\/login/)
  assert.equal(await p.evaluate(() => localStorage.getItem('voltledger.platform')), null)

  await p.fill('input[name=password]', platformPassword())
  await p.click('[data-test=console-login-submit]')
  await p.waitForURL(/\/console\/tenants/)
  await p.waitForSelector('[data-test=tenant-table] [data-tenant]')
  const stored = await p.evaluate(() => ({ platform: localStorage.getItem('voltledger.platform'), tenant: localStorage.getItem('voltledger.tokens') }))
  assert.equal(stored.tenant, null, 'the console never writes the tenant session')
  consoleToken = JSON.parse(stored.platform).accessToken
  assert.ok(consoleToken)
  assert.match(await p.innerText('[data-test=console-user]'), new RegExp(PLATFORM_USER))
})

test('the tenants list shows what platformTenants answers', async () => {
  const p = consolePage
  const api = await platformTenants(consoleToken)
  assert.ok(api.some((x) => x.slug === 'demo'))
  const rows = await p.$$eval('[data-test=tenant-table] .el-table__body-wrapper tr', (trs) =>
    trs.map((tr) => ({
      slug: tr.querySelector('[data-col=slug]')?.textContent?.trim(),
      name: tr.querySelector('[data-tenant]')?.textContent?.trim(),
      timeZone: tr.querySelector('[data-col=tz]')?.textContent?.trim(),
      status: tr.querySelector('[data-status]')?.getAttribute('data-status'),
    })),
  )
  assert.equal(rows.length, api.length)
  for (const x of api) {
    const r = rows.find((y) => y.slug === x.slug)
    assert.ok(r, `row for ${x.slug}`)
    assert.deepEqual(r, { slug: x.slug, name: x.name, timeZone: x.timeZone, status: x.status })
  }
  const active = api.filter((x) => x.status === 'ACTIVE').length
  assert.match(await p.innerText('.el-radio-group'), new RegExp(`正常 ${active}`))
  await shot(p, 'console-tenants')
})

test('a tenant is created (a bad company code refused under its field, nothing created)', async () => {
  const p = consolePage
  const before = await platformTenants(consoleToken)
  await p.click('[data-test=new-tenant]')
  await fill(p, 'tenant-name', tenantName)
  await fill(p, 'tenant-slug', 'Bad Slug!')
  await fill(p, 'tenant-admin', 'admin')
  await fill(p, 'tenant-password', adminPass)
  await p.click('[data-test=save-tenant]')
  const fieldErr = await p.waitForSelector('[data-test=tenant-dialog] .el-form-item.is-error:has([data-test=tenant-slug]) .el-form-item__error')
  assert.match(await fieldErr.innerText(), /a-z/)
  assert.equal(await val(p, 'tenant-name'), tenantName, 'what was typed stays')
  assert.equal(await val(p, 'tenant-password'), adminPass)
  const after = await platformTenants(consoleToken)
  assert.equal(after.length, before.length, 'nothing created')
  assert.ok(!after.some((x) => x.name === tenantName))

  await fill(p, 'tenant-slug', slug)
  await p.click('[data-test=save-tenant]')
  await p.waitForSelector('[data-test=tenant-dialog]', { state: 'hidden' })
  await row(p).waitFor()
  const mine = await ours(consoleToken)
  assert.deepEqual({ name: mine.name, timeZone: mine.timeZone, status: mine.status }, { name: tenantName, timeZone: 'Asia/Shanghai', status: 'ACTIVE' })
  assert.equal(await row(p).locator('[data-status]').getAttribute('data-status'), 'ACTIVE')
})

test('suspension refuses the new tenant\'s administrator at once; reactivation lets them in again', async () => {
  const p = consolePage
  // Its first administrator signs in to the portal in a second browser.
  const second = await page(b)
  await second.goto(`${BASE}/login`)
  await second.fill('input[name=tenant]', slug)
  await second.fill('input[name=username]', 'admin')
  await second.fill('input[name=password]', adminPass)
  await second.click('[data-test=login-submit]')
  await second.waitForURL(/\/dashboard/)
  const tenantToken = JSON.parse(await second.evaluate(() => localStorage.getItem('voltledger.tokens'))).accessToken
  const me = await q(tenantToken, `{ me { name } tenant { name } }`)
  assert.equal(me.tenant.name, tenantName)
  // The tenant session does not open the console.
  await second.goto(`${BASE}/console/tenants`)
  await second.waitForURL(/\/console\/login/)

  try {
    // A cancelled confirmation changes nothing.
    await row(p).locator('[data-test=suspend]').click()
    await box(p)
    const msg = await p.innerText('.el-message-box__message')
    assert.ok(msg.includes(tenantName) && msg.includes(slug), 'the confirmation names the tenant')
    assert.match(msg, /立即被拒绝/)
    await cancelBox(p)
    assert.equal((await ours(consoleToken)).status, 'ACTIVE')
    assert.ok((await gql(tenantToken, `{ me { name } }`)).data?.me)

    await row(p).locator('[data-test=suspend]').click()
    await box(p)
    await confirmBox(p)
    await row(p).locator('[data-status=SUSPENDED]').waitFor()
    assert.equal((await ours(consoleToken)).status, 'SUSPENDED')
    assert.equal((await platformTenants(consoleToken)).find((x) => x.slug === 'demo').status, 'ACTIVE', 'only our tenant is suspended')

    // The administrator's next call is refused; so is a fresh login, with the suspended message.
    const refused = await gql(tenantToken, `{ me { name } }`)
    assert.ok(refused.errors?.length, 'the next API call is refused')
    assert.match(refused.errors[0].extensions?.code ?? '', /FORBIDDEN|UNAUTHENTICATED/)
    const relogin = await tenantLogin(slug, 'admin', adminPass)
    assert.equal(relogin.status, 403)
    const fresh = await page(b)
    await fresh.goto(`${BASE}/login`)
    await fresh.fill('input[name=tenant]', slug)
    await fresh.fill('input[name=username]', 'admin')
    await fresh.fill('input[name=password]', adminPass)
    await fresh.click('[data-test=login-submit]')
    const e = await fresh.waitForSelector('[data-test=login-error]')
    assert.match(await e.innerText(), /暂停服务/)
    assert.match(fresh.url(), /\/login/)

    await row(p).locator('[data-test=reactivate]').click()
    await box(p)
    assert.match(await p.innerText('.el-message-box__message'), new RegExp(slug))
    await confirmBox(p)
    await row(p).locator('[data-status=ACTIVE]').waitFor()
    assert.equal((await ours(consoleToken)).status, 'ACTIVE')
    await fresh.click('[data-test=login-submit]')
    await fresh.waitForURL(/\/dashboard/)
    await fresh.context().close()
  } finally {
    if ((await ours(consoleToken).catch(() => null))?.status === 'SUSPENDED') {
      await q(consoleToken, `mutation($s: String!) { reactivateTenant(input: { slug: $s }) { status } }`, { s: slug }).catch(() => undefined)
    }
    await second.context().close()
  }
})

test('the health figures are platformHealth\'s, with the probes', async () => {
  const p = consolePage
  await p.click('[data-menu=health]')
  await p.waitForURL(/\/console\/health/)
  await p.waitForFunction(() => document.querySelector('[data-figure=tenants]')?.textContent?.trim() !== '—')
  const keys = ['tenants', 'activeTenants', 'suspendedTenants', 'meters', 'metersOnline', 'metersLost', 'gateways', 'gatewaysLost', 'commandsQueued', 'commandsSent', 'notificationsPending', 'openAlarms']
  const HEALTH = `{ platformHealth { ${keys.join(' ')} checkedAt } }`
  // The simulated fleet moves: compare a refresh with the API's answer just after it, until both agree.
  await until(
    async () => {
      await p.click('[data-test=health-refresh]')
      await p.waitForFunction(() => !document.querySelector('[data-test=health-refresh]')?.classList.contains('is-loading'))
      const api = (await q(consoleToken, HEALTH)).platformHealth
      const screen = await p.$$eval('[data-figure]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-figure'), Number(e.textContent?.trim())])))
      const diff = keys.filter((k) => screen[k] !== api[k])
      return diff.length === 0 || (console.error('health differs:', diff.map((k) => `${k} ${screen[k]}≠${api[k]}`).join(', ')), false)
    },
    { timeout: 60_000, every: 1000, what: 'the screen to match platformHealth' },
  )
  const api = (await q(consoleToken, HEALTH)).platformHealth
  assert.equal(api.tenants, api.activeTenants + api.suspendedTenants)
  assert.equal(api.tenants, (await platformTenants(consoleToken)).length)
  for (const path of ['healthz', 'readyz']) {
    const res = await fetch(`${BASE}/${path}`)
    const text = (await res.text()).trim()
    assert.equal(await p.getAttribute(`[data-probe=${path}]`, 'data-probe'), path)
    assert.equal(await p.innerText(`[data-probe=${path}]`), res.ok ? '正常' : '异常')
    assert.ok((await p.innerText(`[data-probe-text=${path}]`)).includes(`HTTP ${res.status}`))
    if (res.ok) assert.ok((await p.innerText(`[data-probe-text=${path}]`)).includes(text))
  }
  await shot(p, 'console-health')
})

test('the payment provider is paymentProvider\'s; a bad merchant number is refused and changes nothing', async () => {
  const p = consolePage
  await p.click('[data-menu=provider]')
  await p.waitForURL(/\/console\/provider/)
  const PROVIDER = `{ paymentProvider { spMchid spAppid serial wechatKeySerials apiBase notifyUrl } }`
  const before = (await q(consoleToken, PROVIDER)).paymentProvider
  if (before) {
    await p.waitForSelector('[data-test=provider-view]')
    assert.equal(await p.innerText('[data-field=spMchid]'), before.spMchid)
    assert.equal(await p.innerText('[data-field=notifyUrl]'), before.notifyUrl)
    assert.deepEqual(await p.$$eval('[data-field=wechatKey]', (els) => els.map((e) => e.textContent.trim())), before.wechatKeySerials)
  } else {
    await p.waitForSelector('[data-test=provider-empty]')
  }
  await shot(p, 'console-provider')
  await p.click('[data-test=set-provider]')
  await fill(p, 'sp-mchid', 'not-a-number')
  await fill(p, 'sp-appid', 'wx0000000000000000')
  await fill(p, 'sp-serial', 'E2E-SERIAL')
  await p.fill('textarea[data-test=sp-private], [data-test=sp-private] textarea', '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----')
  await fill(p, 'sp-v3', 'x'.repeat(32))
  await p.click('[data-test=save-provider]')
  const e = await p.waitForSelector('[data-test=provider-dialog] .el-form-item.is-error:has([data-test=sp-mchid]) .el-form-item__error')
  assert.ok((await e.innerText()).length > 0)
  assert.equal(await val(p, 'sp-mchid'), 'not-a-number', 'what was typed stays')
  assert.deepEqual((await q(consoleToken, PROVIDER)).paymentProvider, before, 'nothing changed')
  await p.click('[data-test=provider-dialog] .el-dialog__footer .el-button:not(.el-button--primary)')
  await p.waitForSelector('[data-test=provider-dialog]', { state: 'hidden' })
  // Closed, the secrets are gone from the form and from the page.
  assert.ok(!(await p.content()).includes('not a key'))
})

test('the English tenants screen', async () => {
  const p = await page(b, { lang: 'en-US' })
  await p.goto(`${BASE}/console/login`)
  await p.evaluate((t) => localStorage.setItem('voltledger.platform', JSON.stringify({ accessToken: t, expiresAt: Date.now() + 600_000, username: 'saas' })), consoleToken)
  await p.goto(`${BASE}/console/tenants`)
  await p.waitForSelector(`[data-tenant="${slug}"]`)
  assert.match(await p.innerText('[data-test=console-brand]'), /Platform console/)
  assert.match(await row(p).innerText(), /Active/)
  await shot(p, 'console-tenants', 'en-US')
  await p.context().close()
})

test('the sessions are kept apart', async () => {
  // A tenant operator's token is refused by the console's queries…
  const r = await gql(demo.accessToken, TENANTS)
  assert.equal(r.errors?.[0]?.extensions?.code, 'FORBIDDEN')
  assert.ok(!r.data?.platformTenants)
  // …and, put in the console's place, it ends there with the refusal.
  const p = await page(b)
  await p.goto(`${BASE}/console/login`)
  await p.evaluate((t) => localStorage.setItem('voltledger.platform', JSON.stringify({ accessToken: t, expiresAt: Date.now() + 600_000, username: 'admin' })), demo.accessToken)
  await p.goto(`${BASE}/console/tenants`)
  await p.waitForURL(/\/console\/login\?.*refused=1/)
  await p.waitForSelector('[data-test=console-refused]')
  assert.equal(await p.evaluate(() => localStorage.getItem('voltledger.platform')), null)
  assert.equal(await p.$('[data-tenant]'), null)
  await p.context().close()

  // The console's token is not a tenant session: the API refuses it, the portal signs out.
  const asTenant = await gql(consoleToken, `{ me { name } tenant { name } }`)
  assert.ok(asTenant.errors?.length && !asTenant.data?.tenant)
  const portal = await page(b, { tokens: { accessToken: consoleToken, refreshToken: 'none', expiresIn: 600 } })
  await portal.goto(`${BASE}/dashboard`)
  await portal.waitForURL(/\/login/, { timeout: 15_000 })
  await portal.waitForSelector('[data-test=login-submit]')
  await portal.context().close()
  // The console's token still works in the console.
  assert.ok((await platformTenants(consoleToken)).length > 0)
})

test('logout ends the console session; the old token is refused', async () => {
  const p = consolePage
  await p.click('[data-test=console-logout]')
  await p.waitForURL(/\/console\/login/)
  assert.equal(await p.evaluate(() => localStorage.getItem('voltledger.platform')), null)
  await until(async () => (await gql(consoleToken, TENANTS)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', { timeout: 10_000, every: 500, what: 'the old token refused' })
  await p.goto(`${BASE}/console/tenants`)
  await p.waitForURL(/\/console\/login/)
  await p.context().close()
})
