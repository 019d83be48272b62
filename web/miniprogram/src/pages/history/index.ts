// Money paid into one account, newest first: recharges (the kind names the channel), bill
// payments and refunds from the account's ledger (myLedger), each with its amount, time and
// receipt number; a tap opens the receipt. Energy charges are most of a ledger, so pages are
// read until twenty payments show (or five pages), and "load more" reads on.
import { single } from '../../lib/guard'
import { dictionaries, fmt } from '../../lib/i18n'
import { historyRow, HistoryRow, isPaidIn } from '../../lib/history'
import { platform } from '../../lib/platform'
import { LedgerItem, myAccounts, myLedger } from '../../lib/queries'
import { failure, noError, PageThis, switchLanguage, titled } from '../../lib/view'

const PAGE = 100
const WANTED = 20
const MAX_PAGES = 5

const initial = {
  t: dictionaries.zh,
  accountId: '',
  number: '',
  heading: '',
  loading: true,
  /** The payments read so far (only those: the energy charges stay out of the page's data). */
  items: [] as LedgerItem[],
  rows: [] as HistoryRow[],
  cursor: null as string | null,
  more: false,
  error: noError,
}
type Data = typeof initial

async function read(this: PageThis<Data>, reset: boolean): Promise<void> {
  const accountId = this.data.accountId
  this.setData({ loading: true })
  try {
    const items = reset ? [] : this.data.items.slice()
    let cursor = reset ? null : this.data.cursor
    let more = false
    const before = items.length
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await myLedger(accountId, PAGE, cursor)
      items.push(...page.items.filter(isPaidIn))
      cursor = page.endCursor
      more = page.hasNextPage
      if (!more || items.length - before >= WANTED) break
    }
    this.setData({ loading: false, items, rows: items.map(historyRow), cursor, more, error: noError })
  } catch (e) {
    this.setData({ loading: false, ...failure(e) })
  }
}

Component({
  data: initial,
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ t: titled('history_title'), accountId: query.id || '' })
      await Promise.all([this.account(), this.load()])
    },
    onPullDownRefresh() {
      return this.load()
    },
    async account() {
      try {
        const a = (await myAccounts()).find((x) => x.id === this.data.accountId)
        if (a) this.setData({ number: a.number, heading: fmt('home_account', { number: a.number }) })
      } catch {
        // The list says what failed.
      }
    },
    load: single(function (this: PageThis<Data>) {
      return read.call(this, true)
    }),
    onMore: single(function (this: PageThis<Data>) {
      return read.call(this, false)
    }),
    onOpen(e: { currentTarget: { dataset: { no: number | string } } }) {
      const no = Number(e.currentTarget.dataset.no)
      if (no > 0) platform().navigateTo(`/pages/receipt/index?no=${no}`)
    },
    onLang() {
      const t = switchLanguage('history_title')
      const heading = this.data.number ? fmt('home_account', { number: this.data.number }) : ''
      this.setData({ t, heading, rows: this.data.items.map(historyRow) })
    },
  },
})
