import { billView, BillView } from '../../lib/bills'
import { dictionaries } from '../../lib/i18n'
import { platform } from '../../lib/platform'
import { Bill, MyAccount, myAccounts, myBills } from '../../lib/queries'
import { failure, noError, switchLanguage, titled } from '../../lib/view'

const initial = {
  t: dictionaries.zh,
  loading: true,
  bills: [] as BillView[],
  raw: [] as Bill[],
  numbers: {} as Record<string, string>,
  error: noError,
}

Component({
  data: initial,
  methods: {
    onLoad() {
      this.setData({ t: titled('bills_title') })
    },
    onShow() {
      return this.load()
    },
    onPullDownRefresh() {
      return this.load()
    },
    async load() {
      try {
        const [raw, accounts] = await Promise.all([myBills(), myAccounts()])
        const numbers: Record<string, string> = {}
        accounts.forEach((a: MyAccount) => (numbers[a.id] = a.number))
        this.setData({ loading: false, raw, numbers, bills: raw.map((b) => billView(b, numbers[b.accountId] || '')), error: noError })
      } catch (e) {
        this.setData({ loading: false, ...failure(e) })
      }
    },
    onLang() {
      const t = switchLanguage('bills_title')
      this.setData({ t, bills: this.data.raw.map((b) => billView(b, this.data.numbers[b.accountId] || '')) })
    },
    onOpen(e: { currentTarget: { dataset: { id: string } } }) {
      platform().navigateTo(`/pages/bill/index?id=${e.currentTarget.dataset.id}`)
    },
  },
})
