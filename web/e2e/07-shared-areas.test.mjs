// Shared areas (公摊): a group is refused without a name (the server's message under the field,
// what was typed kept, nothing created), then created from the screen — a simulated demo meter
// as the common meter, two prepaid demo accounts weighted 120.5 m² and 80 m² — and compared
// with `allocationGroups`; run for the current period: each member's share on screen against
// the ledger entry the run posted (same token), the shares' sum, each share within a fen of
// amount × m² ÷ total m²; a second run is refused and posts nothing. The charges are reversed
// at the end (groups cannot be deleted: unique names per run).
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const groupName = `E2E 公摊 ${stamp}`
let b
let admin
let T
let period
let common
let members // [{ accountId, number, weight }]
const posted = []

const GROUPS = `{ allocationGroups { id name meterId method members { accountId weight } } }`
const ENTRIES = `query($a: ID!) { ledgerEntries(filter: { accountId: $a, kind: SHARED_AREA_CHARGE }, first: 20) { items { entry { id amount note } } } }`
const fill = (p, test, value) => p.fill(`input[data-test="${test}"], [data-test="${test}"] input`, value)
const val = (p, test) => p.inputValue(`input[data-test="${test}"], [data-test="${test}"] input`)
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const calm = async (p) => {
  await p.waitForSelector('.el-message', { state: 'detached', timeout: 8000 }).catch(() => undefined)
  // The demo's live alarm toasts are not this screen's.
  await p.evaluate(() => document.querySelectorAll('.el-notification').forEach((n) => n.remove()))
}
const money = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  return (neg ? '-' : '') + i.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (f + '00').slice(0, 2)
}
/** Yuan string → fen (BigInt), exactly. */
const fen = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  const v = BigInt(i) * 100n + BigInt((f + '00').slice(0, 2))
  return neg ? -v : v
}

function currentPeriod(tz) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' }).formatToParts(new Date())
  return `${parts.find((x) => x.type === 'year').value}-${parts.find((x) => x.type === 'month').value}`
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  T = admin.accessToken
  const base = await q(T, `{ tenant { timeZone } meters(filter: {}, pageSize: 20) { items { id address accountId account { id number } } } }`)
  period = currentPeriod(base.tenant.timeZone)
  const withAccounts = base.meters.items.filter((m) => m.account)
  common = withAccounts[5]
  members = [
    { accountId: withAccounts[6].account.id, number: withAccounts[6].account.number, weight: '120.5' },
    { accountId: withAccounts[7].account.id, number: withAccounts[7].account.number, weight: '80' },
  ]
})

after(async () => {
  // Give the charges back (a reversal each).
  for (const id of posted) await gql(T, `mutation($id: ID!) { reverseEntry(entryId: $id, note: "e2e shared-area test") { receiptNo } }`, { id })
  await b?.close()
})

async function pickAccount(p, row, number) {
  await p.click(`[data-test=member-account-${row}]`)
  await p.keyboard.type(number)
  await p.click(`.el-select-dropdown__item:visible[data-account-option="${number}"]`)
}

test('a group by floor area from the screen, refused first without a name', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await p.waitForSelector('[data-test=group-table]')
  const before = (await q(T, GROUPS)).allocationGroups.length
  await p.click('[data-test=new-group]')
  await p.click('[data-test=group-meter-select]')
  await p.keyboard.type(common.address)
  await p.click(`.el-select-dropdown__item:visible[data-meter-option="${common.address}"]`)
  await pickAccount(p, 0, members[0].number)
  await fill(p, 'member-weight-0', members[0].weight)
  await pickAccount(p, 1, members[1].number)
  await fill(p, 'member-weight-1', members[1].weight)
  await fill(p, 'group-name', '   ')
  await p.click('[data-test=save-group]')
  await p.waitForSelector('[data-test=group-dialog] .el-form-item__error')
  assert.equal(await val(p, 'member-weight-0'), members[0].weight, 'what was typed stays')
  assert.equal((await q(T, GROUPS)).allocationGroups.length, before, 'nothing created')

  await fill(p, 'group-name', groupName)
  await p.click('[data-test=save-group]')
  await p.waitForSelector(`[data-test=group-title] >> text="${groupName}"`)
  const g = (await q(T, GROUPS)).allocationGroups.find((x) => x.name === groupName)
  assert.ok(g, 'the group exists on the server')
  assert.equal(g.meterId, common.id)
  assert.equal(g.method, 'AREA')
  const byAccount = Object.fromEntries(g.members.map((m) => [m.accountId, m.weight]))
  for (const m of members) assert.equal(Number(byAccount[m.accountId]), Number(m.weight))
  assert.equal(await p.innerText('[data-test=group-meter]'), common.address)
  for (const m of members) await p.waitForSelector(`[data-test=member-table] [data-member="${m.number}"]`)
  await p.close()
})

test('the run for the period: each share against the ledger, to the fen, summing to the amount', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await p.click(`[data-test=group-table] [data-group="${groupName}"]`)
  await p.waitForSelector(`[data-test=group-title] >> text="${groupName}"`)
  const input = p.locator('[data-test=alloc-period] input')
  await input.click()
  await input.fill(period)
  await input.press('Enter')
  await until(async () => (await input.inputValue()) === period, { timeout: 5000, every: 200, what: 'the period' })
  await p.click('[data-test=run-allocation]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=alloc-result]')

  // What the run posted, read from the ledger with the same token.
  let total = 0n
  for (const m of members) {
    const e = (await q(T, ENTRIES, { a: m.accountId })).ledgerEntries.items.map((x) => x.entry).find((x) => x.note.startsWith(`${groupName} ${period}`))
    assert.ok(e, `a shared-area charge for ${m.number}`)
    posted.push(e.id)
    m.share = -fen(e.amount)
    total += m.share
    const shown = (await p.innerText(`[data-share="${m.number}"]`)).trim()
    assert.equal(shown, money(e.amount.replace('-', '')), `share of ${m.number}`)
  }
  const sumShown = (await p.innerText('[data-test=alloc-total]')).trim()
  assert.equal(fen(sumShown.replace(/,/g, '')), total, 'the sum on screen is the sum of the charges')
  assert.ok(total > 0n, 'the common meter used energy in the period')
  // Largest remainder: each share within a fen of amount × weight ÷ total weight.
  const w = members.map((m) => BigInt(Math.round(Number(m.weight) * 10)))
  const W = w.reduce((a, x) => a + x, 0n)
  members.forEach((m, i) => {
    const exactTimesW = total * w[i]
    const diff = m.share * W - exactTimesW
    assert.ok(diff > -W && diff < W, `share of ${m.number} is within a fen of its part`)
  })
  await calm(p)
  await shot(p, 'shared-areas')

  // Once per group and period: refused, nothing posted.
  await p.click('[data-test=run-allocation]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=run-panel] [data-test=run-error]')
  await calm(p)
  await shot(p, 'shared-areas-refused')
  for (const m of members) {
    const n = (await q(T, ENTRIES, { a: m.accountId })).ledgerEntries.items.map((x) => x.entry).filter((x) => x.note.startsWith(`${groupName} ${period}`)).length
    assert.equal(n, 1, `one charge only for ${m.number}`)
  }
  await p.close()
})

test('the shared areas screen in English', async () => {
  const p = await page(b, { lang: 'en-US', tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await p.click(`[data-test=group-table] [data-group="${groupName}"]`)
  await p.waitForSelector('[data-test=method-explained] >> text=/By floor area/')
  await calm(p)
  await shot(p, 'shared-areas', 'en-US')
  await p.close()
})
