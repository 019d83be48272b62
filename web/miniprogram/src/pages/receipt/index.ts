// One of the customer's receipts (电子收据, myReceipt): its number, its entries (a recharge and
// the service fee taken from it, say) and its total. The printable HTML stays with the portal
// and the mobile pages: a mini-program has no frame to show it safely.
import { dict, dictionaries } from '../../lib/i18n'
import { receiptView, ReceiptView } from '../../lib/history'
import { myReceipt, Receipt } from '../../lib/queries'
import { failure, noError, switchLanguage, titled } from '../../lib/view'

const initial = {
  t: dictionaries.zh,
  number: 0,
  loading: true,
  raw: null as Receipt | null,
  receipt: null as ReceiptView | null,
  /** The server answered null: not this customer's receipt, or none with this number. */
  notFound: false,
  error: noError,
}

Component({
  data: initial,
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ t: titled('receipt_title'), number: Number(query.no) || 0 })
      await this.load()
    },
    async load() {
      const n = this.data.number
      try {
        const raw = n > 0 ? await myReceipt(n) : null
        this.setData({
          loading: false,
          raw,
          receipt: raw ? receiptView(raw) : null,
          notFound: !raw,
          error: raw ? noError : { title: dict().receipt_not_found, detail: '', relogin: false },
        })
      } catch (e) {
        this.setData({ loading: false, ...failure(e) })
      }
    },
    onLang() {
      const t = switchLanguage('receipt_title')
      const raw = this.data.raw
      this.setData({ t, receipt: raw ? receiptView(raw) : null, error: this.data.notFound ? { title: t.receipt_not_found, detail: '', relogin: false } : this.data.error })
    },
  },
})
