// An operator limited to one property sees only that property.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, page, q, shot, uiLogin } from './lib.mjs'

let b
let admin
const stamp = Date.now().toString(36)
const username = `e2e-scoped-${stamp}`
const pass = `Scoped-${stamp}-Pw9!x`
let property
let operatorId
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
  // Leave the demo tenant as it was: the operator disabled, the empty property retired.
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

  // Customers come from the property's meters: none in the new, empty property.
  await p.goto(`${BASE}/customers`)
  await p.waitForSelector('[data-test=customer-table]')
  await p.waitForTimeout(1500)
  assert.equal(await p.locator('[data-test=customer-table] .el-table__row').count(), 0)
  assert.equal(await p.locator('[data-test=new-customer]').count(), 0)
  await p.close()
})
