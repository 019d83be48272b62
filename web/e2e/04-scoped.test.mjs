// An operator limited to one property sees only that property: dashboard, monitor, alarms,
// customers and the command queue, on screen and in the API's answers to its own token.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, page, q, shot, uiLogin, until } from './lib.mjs'

let b
let admin
const stamp = Date.now().toString(36)
const username = `e2e-scoped-${stamp}`
const pass = `Scoped-${stamp}-Pw9!x`
let property
let operatorId
let customerId
before(async () => {
  b = await browser()
  admin = await apiLogin()
  // Properties an interrupted run left behind.
  for (const old of (await q(admin.accessToken, `{ properties { id name retiredAt } }`)).properties.filter((x) => /^E2E Plaza /.test(x.name) && !x.retiredAt))
    await q(admin.accessToken, `mutation($id: ID!) { retireProperty(input: { id: $id }) { id } }`, { id: old.id }).catch(() => undefined)
  property = (await q(admin.accessToken, `mutation($n: String!) { createProperty(input: { name: $n, address: "E2E" }) { id name } }`, { n: `E2E Plaza ${stamp}` })).createProperty
  const roles = (await q(admin.accessToken, `{ roles { id name permissions } }`)).roles
  const role = roles.find((r) => r.name === 'operator') ?? roles.find((r) => !r.permissions.includes('OPERATORS'))
  operatorId = (
    await q(admin.accessToken, `mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }`, {
      i: { username, displayName: 'E2E scoped', password: pass, roleId: role.id, propertyIds: [property.id] },
    })
  ).createOperator.id
})
after(async () => {
  // Leave the demo tenant as it was: the customer retired, the operator disabled, the empty
  // property retired.
  if (customerId) await q(admin.accessToken, `mutation($id: ID!) { retireCustomer(input: { id: $id }) { id } }`, { id: customerId }).catch(() => undefined)
  if (operatorId) await q(admin.accessToken, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: operatorId }).catch(() => undefined)
  if (property) await q(admin.accessToken, `mutation($id: ID!) { retireProperty(input: { id: $id }) { id } }`, { id: property.id }).catch(() => undefined)
  await b?.close()
})

test('a scoped operator sees only its property', async () => {
  const mine = await apiLogin(username, pass)
  const api = await q(mine.accessToken, `query($p: ID) { me { propertyIds } properties { id } meters(filter: { propertyId: $p }) { total } overview(propertyId: $p) { meters { total } } }`, { p: property.id })
  assert.deepEqual(api.me.propertyIds, [property.id])
  const all = (await q(admin.accessToken, `{ meters { total } }`)).meters.total
  assert.ok(all > 0)

  const p = await page(b)
  await uiLogin(p, { username, pass })
  await p.waitForURL(/\/dashboard/)
  await p.waitForSelector('[data-stat="meters.total"] >> text=/\\d+/')
  assert.equal(await p.innerText('[data-stat="meters.total"]'), String(api.overview.meters.total))
  assert.match(await p.innerText('.header'), new RegExp(property.name))
  // The demo park is not offered.
  assert.doesNotMatch(await p.innerText('.header'), /Riverside/)
  await shot(p, 'dashboard-scoped')

  await p.goto(`${BASE}/monitor`)
  await p.waitForSelector('.pager')
  await p.waitForTimeout(1500)
  assert.match(await p.innerText('.pager'), new RegExp(`共 ${api.meters.total} 条`))
  assert.notEqual(api.meters.total, all)
  await shot(p, 'monitor-scoped')

  // Everything of the other properties, as the administrator sees it.
  const others = { meters: new Set(), addresses: new Set(), customers: new Set() }
  for (let page = 1; ; page++) {
    const r = (await q(admin.accessToken, `query($p: Int!) { meters(page: $p, pageSize: 500) { items { id address propertyId customer { id } } } }`, { p: page })).meters.items
    for (const m of r.filter((m) => m.propertyId !== property.id)) {
      others.meters.add(m.id)
      others.addresses.add(m.address)
      if (m.customer) others.customers.add(m.customer.id)
    }
    if (r.length < 500) break
  }
  assert.ok(others.customers.size > 0, 'the demo park has customers')

  // Alarms: the API answers with this property's only, the centre and the bell show those.
  const ALARMS = `query($a: Boolean!) { alarms(activeOnly: $a, first: 500) { id propertyId subjectLabel } }`
  const adminAlarms = (await q(admin.accessToken, ALARMS, { a: false })).alarms
  if (!adminAlarms.some((a) => a.propertyId && a.propertyId !== property.id)) console.warn('no alarm of another property to leave out')
  const myAlarms = (await q(mine.accessToken, ALARMS, { a: false })).alarms
  assert.deepEqual(myAlarms.filter((a) => a.propertyId !== property.id), [], 'the scoped alarm history holds only its property')
  const myActive = (await q(mine.accessToken, ALARMS, { a: true })).alarms
  assert.ok(myActive.every((a) => a.propertyId === property.id))
  await p.goto(`${BASE}/alarms`)
  await p.waitForSelector('[data-test=alarms-table]')
  await p.waitForTimeout(1500)
  assert.equal(await p.locator('.el-alert--warning').count(), 0, 'no refusal')
  assert.equal(await p.locator('[data-test=alarms-table] .el-table__body-wrapper .el-table__row').count(), myActive.length)
  const shownLabels = await p.locator('[data-test=alarms-table] [data-test=alarm-subject]').allInnerTexts()
  assert.ok(shownLabels.every((l) => !others.addresses.has(l.trim())), 'no meter of another property in the alarm centre')
  if (myActive.length === 0) assert.equal(await p.locator('[data-test=bell] .el-badge__content').isVisible(), false)
  await shot(p, 'alarms-scoped')

  // Customers: the API's scoped list and search leave out the park's customers, and hold a
  // customer with no metered account yet (one the administrator creates here).
  const name = `E2E unmetered ${stamp}`
  customerId = (await q(admin.accessToken, `mutation($n: String!) { createCustomer(input: { name: $n, phone: "", shopNo: "" }) { id } }`, { n: name })).createCustomer.id
  const CUSTOMERS = `query($q: String) { customers(q: $q, pageSize: 100) { total items { id name } } }`
  const myCustomers = (await q(mine.accessToken, CUSTOMERS, { q: null })).customers
  assert.deepEqual(myCustomers.items.filter((c) => others.customers.has(c.id)), [], 'no customer of another property')
  assert.ok(myCustomers.items.some((c) => c.id === customerId), 'the unmetered customer is listed')
  const shop = (await q(mine.accessToken, CUSTOMERS, { q: 'Shop 0' })).customers
  assert.deepEqual(shop.items.filter((c) => others.customers.has(c.id)), [], 'the search leaves them out too')
  await p.goto(`${BASE}/customers`)
  await p.waitForSelector(`[data-test=customer-table] .el-table__row >> text="${name}"`)
  // Creating customers is open to scoped operators (a customer without an account is no
  // property's yet): offered exactly when their role holds the archive permission.
  const perms = (await q(mine.accessToken, `{ me { permissions } }`)).me.permissions
  assert.equal(await p.locator('[data-test=new-customer]').count(), perms.includes('METERS') ? 1 : 0)
  const names = (await p.locator('[data-test=customer-table] .el-table__body-wrapper .el-table__row td:first-child').allInnerTexts()).map((x) => x.trim())
  const theirNames = new Set((await q(admin.accessToken, `{ customers(pageSize: 100) { items { id name } } }`)).customers.items.filter((c) => others.customers.has(c.id)).map((c) => c.name))
  assert.ok(theirNames.size > 0)
  assert.ok(names.every((n) => !theirNames.has(n.replace(/^(已停用|Retired)\s*/, ''))), 'no customer of another property on screen')
  // Searching the park's shop numbers finds nothing of it.
  await p.fill('input[data-test=customer-search], [data-test=customer-search] input', 'Shop 0001')
  const one = (await q(mine.accessToken, CUSTOMERS, { q: 'Shop 0001' })).customers
  assert.deepEqual(one.items.filter((c) => others.customers.has(c.id)), [])
  await until(async () => (await p.locator('[data-test=customer-table] .el-table__body-wrapper .el-table__row').count()) === one.items.length, { timeout: 10_000, every: 500, what: 'the search to answer' })
  await p.fill('input[data-test=customer-search], [data-test=customer-search] input', '')
  await shot(p, 'customers-scoped')

  // Commands and batches: none of the park's meters.
  const myCommands = (await q(mine.accessToken, `{ commands(first: 500) { id meterId meterAddress } commandBatches(first: 100) { id } }`))
  assert.deepEqual(myCommands.commands.filter((c) => others.meters.has(c.meterId)), [], 'no command of another property')
  const adminBatches = (await q(admin.accessToken, `{ commandBatches(first: 100) { id } }`)).commandBatches
  if (adminBatches.length === 0) console.warn('no batch of another property to leave out')
  assert.deepEqual(myCommands.commandBatches.filter((b) => adminBatches.some((x) => x.id === b.id)), [], 'no batch of another property')
  await p.goto(`${BASE}/commands`)
  await p.waitForSelector('[data-test=commands-table]')
  await p.waitForTimeout(1500)
  assert.equal(await p.locator('[data-test=commands-error]').count(), 0, 'no refusal')
  assert.equal(await p.locator('[data-test=commands-table] .el-table__body-wrapper .el-table__row').count(), myCommands.commands.length)
  const shownMeters = await p.locator('[data-test=commands-table] [data-test=command-meter]').allInnerTexts()
  assert.ok(shownMeters.every((a) => !others.addresses.has(a.trim())))
  await p.click('.el-tabs__item:has-text("批量指令")')
  await p.waitForSelector('[data-test=batches-table]')
  await p.waitForTimeout(1000)
  assert.equal(await p.locator('[data-test=batches-table] .el-table__body-wrapper .el-table__row').count(), myCommands.commandBatches.length)
  await shot(p, 'commands-scoped')
  await p.close()
})
