import { billView, BillView } from '../../lib/bills'
import { single } from '../../lib/guard'
import { dict, dictionaries } from '../../lib/i18n'
import { payBill } from '../../lib/pay'
import { platform } from '../../lib/platform'
import { Bill, myAccounts, myBills } from '../../lib/queries'
import { subscribe, templateIds } from '../../lib/subscribe'
import { failure, noError, PageThis, switchLanguage, titled } from '../../lib/view'

const initial = {
  t: dictionaries.zh,
  id: '',
  loading: true,
  bill: null as BillView | null,
  raw: null as Bill | null,
  number: '',
  paying: false,
  done: '',
  /** The subscription templates, read with the page: the pay tap asks them before paying. */
  templateIds: [] as string[],
  error: noError,
}
type Data = typeof initial

Component({
  data: initial,
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ t: titled('bill_title'), id: query.id || '' })
      await Promise.all([this.load(), this.templates()])
    },
    async templates() {
      try {
        this.setData({ templateIds: await templateIds() })
      } catch {
        // No alerts offered then; paying does not depend on them.
      }
    },
    async load() {
      try {
        const [bills, accounts] = await Promise.all([myBills(), myAccounts()])
        const raw = bills.find((b) => b.id === this.data.id) || null
        const acc = raw ? accounts.find((a) => a.id === raw.accountId) : undefined
        const number = acc ? acc.number : ''
        this.setData({
          loading: false,
          raw,
          number,
          bill: raw ? billView(raw, number) : null,
          error: raw ? noError : { title: dict().bill_not_found, detail: '', relogin: false },
        })
      } catch (e) {
        this.setData({ loading: false, ...failure(e) })
      }
    },
    onLang() {
      const t = switchLanguage('bill_title')
      this.setData({ t, bill: this.data.raw ? billView(this.data.raw, this.data.number) : null })
    },
    onPay: single(async function (this: PageThis<Data> & { load(): Promise<void> }) {
      const t = dict()
      const bill = this.data.raw
      if (!bill || bill.state !== 'ISSUED') return
      // Alerts first, within the tap (WeChat asks only then); whatever the answer, pay.
      const asked = subscribe(this.data.templateIds).catch(() => null)
      this.setData({ paying: true, error: noError, done: '' })
      try {
        await asked
        const paid = await payBill(bill.id)
        await this.load()
        const done = paid.confirmed ? t.bill_done : t.recharge_pending
        this.setData({ paying: false, done })
        platform().toast(done)
      } catch (e) {
        this.setData({ paying: false, ...failure(e) })
      }
    }),
  },
})
