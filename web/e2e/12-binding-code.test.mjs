// Binding codes (绑定码) on the customers screen: the code shown is the API's, copy and print
// (a small card with the account number, the customer, the code and how to bind), and a new
// code asks first (cancel changes nothing; confirm makes a different code, which the API then
// gives for the account).
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, uiLogin, until } from './lib.mjs'

let b
let tokens
let account
let customer
let readerId
const stamp = Date.now().toString(36)
before(async () => {
  b = await browser()
  tokens = await apiLogin()
  const custs = (await q(tokens.accessToken, `{ customers(pageSize: 200) { items { id name retiredAt } } }`)).customers.items.filter((c) => !c.retiredAt)
  const accs = (await q(tokens.accessToken, `{ accounts(pageSize: 100) { items { id number state customerId } } }`)).accounts.items
  account = accs.find((a) => a.state === 'OPEN' && custs.some((c) => c.id === a.customerId))
  assert.ok(account, 'an open demo account')
  customer = custs.find((c) => c.id === account.customerId)
})
after(async () => {
  if (readerId) await gql(tokens.accessToken, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: readerId })
  await b?.close()
})

const ISSUE = `mutation($a: ID!, $r: Boolean!) { issueBindingCode(accountId: $a, rotate: $r) }`
const apiCode = async () => (await q(tokens.accessToken, ISSUE, { a: account.id, r: false })).issueBindingCode
/** The customers screen with the demo account's customer picked (after the search settled). */
async function pickCustomer(p) {
  await p.goto(`${BASE}/customers`)
  await p.waitForSelector('[data-test=customer-table] .el-table__row')
  const hits = (await q(tokens.accessToken, `query($q: String) { customers(q: $q, pageSize: 50) { items { id } } }`, { q: customer.name })).customers.items.length
  await p.fill('input[data-test=customer-search], [data-test=customer-search] input', customer.name)
  await until(async () => (await p.locator('[data-test=customer-table] .el-table__body-wrapper .el-table__row').count()) === hits, { timeout: 10_000, every: 300, what: 'the customer search' })
  await p.waitForTimeout(800)
  await p.locator(`[data-test=customer-table] .el-table__body-wrapper .el-table__row >> text="${customer.name}"`).first().click()
  const panel = p.locator(`[data-account="${account.number}"]`)
  await panel.waitFor({ timeout: 10_000 })
  await p.waitForSelector('.right .el-loading-mask', { state: 'detached', timeout: 10_000 }).catch(() => undefined)
  return panel
}
const shown = async (p) => (await p.innerText('[data-test=binding-code-value]')).replace(/\s+/g, '')

test('the binding code on screen is the API\'s; a new code asks first, then replaces it', async () => {
  const p = await page(b, { tokens })
  // Printing goes through a hidden frame: note what it would print instead of opening a dialog.
  await p.context().addInitScript(() => {
    window.print = () => {
      window.top.__printed = (window.top.__printed ?? []).concat(document.body.innerText)
    }
  })
  const panel = await pickCustomer(p)
  await panel.locator('[data-test=binding-code]').click()
  const dialog = p.locator('[data-test=binding-code-dialog]')
  await dialog.waitFor()
  await until(async () => /^[0-9A-Z]{4} [0-9A-Z]{4}$/.test(await p.innerText('[data-test=binding-code-value]')), { timeout: 10_000, every: 200, what: 'the code, grouped 4 + 4' })
  const first = await shown(p)
  assert.equal(first, await apiCode(), 'the code on screen is the one the API gives (rotate: false)')
  const font = await p.$eval('[data-test=binding-code-value]', (e) => getComputedStyle(e).fontFamily)
  assert.match(font, /mono/i)
  assert.match(await dialog.innerText(), new RegExp(customer.name))
  assert.match(await dialog.innerText(), /微信小程序 → 绑定账户 → 输入户号和绑定码/)
  await shot(p, 'binding-code')

  // Print: a card with the account number, the customer, the code and the instructions.
  await p.click('[data-test=binding-code-print]')
  const printed = await until(async () => (await p.evaluate(() => window.__printed))?.at(-1), { timeout: 10_000, every: 200, what: 'the card printed' })
  for (const s of [account.number, customer.name, `${first.slice(0, 4)} ${first.slice(4)}`, '微信小程序 → 绑定账户 → 输入户号和绑定码']) assert.ok(printed.includes(s), `the card shows ${s}: ${printed}`)

  // A new code: cancelling the confirmation changes nothing.
  await p.click('[data-test=binding-code-rotate]')
  const box = p.locator('.el-message-box')
  await box.waitFor()
  assert.match(await box.innerText(), new RegExp(`${first.slice(0, 4)} ${first.slice(4)}`))
  await box.locator('.el-button:not(.el-button--primary)').click()
  await box.waitFor({ state: 'hidden' })
  assert.equal(await shown(p), first)
  assert.equal(await apiCode(), first, 'cancelled: the old code stands')

  // Confirmed: a different code, and the API's non-rotating call gives the new one.
  await p.click('[data-test=binding-code-rotate]')
  await box.waitFor()
  await box.locator('.el-button--primary').click()
  const second = await until(async () => {
    const c = await shown(p)
    return /^[0-9A-Z]{8}$/.test(c) && c !== first && c
  }, { timeout: 10_000, every: 200, what: 'the new code' })
  assert.notEqual(second, first)
  assert.equal(await apiCode(), second, 'the API now gives the new code')

  // Reopening shows the same (new) code.
  await p.keyboard.press('Escape')
  await dialog.waitFor({ state: 'hidden' })
  await panel.locator('[data-test=binding-code]').click()
  await until(async () => (await shown(p)) === second, { timeout: 10_000, every: 200, what: 'the new code again' })
  await p.close()
})

test('an operator without the meters permission is not offered the binding code, and the API refuses it', async () => {
  const role = (await q(tokens.accessToken, `{ roles { id name permissions } }`)).roles.find((r) => !r.permissions.includes('METERS') && r.permissions.includes('SALES'))
  assert.ok(role, 'a role without METERS')
  const user = `e2e-bc-${stamp}`
  const pass = `Bind-${stamp}-Pw9!x`
  readerId = (await q(tokens.accessToken, `mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }`, { i: { username: user, displayName: 'E2E binding code', password: pass, roleId: role.id } })).createOperator.id
  const p = await page(b)
  await uiLogin(p, { username: user, pass })
  await p.waitForSelector('[data-menu]')
  const token = await p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.tokens') ?? '{}').accessToken)
  const refused = await gql(token, ISSUE, { a: account.id, r: false })
  assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN')
  await p.goto(`${BASE}/customers`)
  await p.waitForSelector('[data-test=customer-table] .el-table__row')
  await p.fill('input[data-test=customer-search], [data-test=customer-search] input', customer.name)
  await p.waitForTimeout(1200)
  await p.locator(`[data-test=customer-table] .el-table__body-wrapper .el-table__row >> text="${customer.name}"`).first().click()
  await p.locator(`[data-account="${account.number}"]`).waitFor({ timeout: 10_000 })
  assert.equal(await p.locator('[data-test=binding-code]').count(), 0, 'no binding code button')
  await p.close()
})
