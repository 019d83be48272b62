import { apiLogin, browser, page, BASE } from './lib.mjs'
const b = await browser()
const admin = await apiLogin()
const lang = process.argv[2] ?? 'zh-CN'
const p = await page(b, { tokens: admin, lang })
for (const [path, tabs] of [['/payees', ['收款账户','收款汇总','对账记录','Payees']], ['/people', []], ['/settings', []]]) {
  await p.goto(`${BASE}${path}`)
  await p.waitForTimeout(2500)
  await p.screenshot({ path: `/tmp/pb/${path.slice(1)}-${lang}.png` })
}
await p.goto(`${BASE}/people`); await p.waitForTimeout(1500)
await p.click('.el-tabs__item >> nth=1'); await p.waitForTimeout(800)
await p.screenshot({ path: `/tmp/pb/roles-${lang}.png` })
await p.click('.el-tabs__item >> nth=3'); await p.waitForTimeout(1500)
await p.click('.el-table__expand-icon >> nth=0'); await p.waitForTimeout(500)
await p.screenshot({ path: `/tmp/pb/audit-${lang}.png` })
await p.goto(`${BASE}/settings`); await p.waitForTimeout(1500)
for (const i of [2, 4]) { await p.click(`.el-tabs__item >> nth=${i}`); await p.waitForTimeout(600); await p.screenshot({ path: `/tmp/pb/settings-tab${i}-${lang}.png` }) }
await b.close()
