// Usage of one account: the last 30 days or the last 12 months (myUsage), energy as bars drawn
// with plain views (heights in rpx proportional to the kWh; no chart library), the total, and
// every bucket's energy and charges in a list under the chart, newest first.
import { dictionaries, fmt } from '../../lib/i18n'
import { formatYuan } from '../../lib/money'
import { myAccounts, myUsage, UsagePoint } from '../../lib/queries'
import { Bar, bars, kwh, lastDays, lastMonths, totals } from '../../lib/usage'
import { failure, noError, switchLanguage, titled } from '../../lib/view'

/** The tallest bar (the chart area is a little higher, for the axis). */
export const MAX_BAR_RPX = 240

type Bucket = 'DAY' | 'MONTH'

interface BarView extends Bar {
  /** What a screen reader says for the bar. */
  aria: string
}

interface RowView {
  at: string
  label: string
  value: string
}

const initial = {
  t: dictionaries.zh,
  accountId: '',
  heading: '',
  number: '',
  bucket: 'DAY' as Bucket,
  loading: true,
  points: [] as UsagePoint[],
  bars: [] as BarView[],
  rows: [] as RowView[],
  total: '',
  error: noError,
}

function views(points: UsagePoint[], bucket: Bucket): { bars: BarView[]; rows: RowView[]; total: string } {
  const drawn = bars(points, bucket, MAX_BAR_RPX).map((b) => ({ ...b, aria: fmt('usage_bar', { when: b.label, energy: b.energy }) }))
  const rows = drawn
    .map((b) => ({ at: b.at, label: b.label, value: fmt('usage_row', { energy: b.energy, cost: formatYuan(b.cost) }) }))
    .reverse()
  const sum = totals(points)
  const total = points.length ? fmt('usage_total', { energy: kwh(sum.energy), cost: formatYuan(sum.cost) }) : ''
  return { bars: drawn, rows, total }
}

Component({
  data: initial,
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ t: titled('usage_title'), accountId: query.id || '' })
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
        // The chart says what failed; the heading is only the number.
      }
    },
    async load() {
      const bucket = this.data.bucket
      const now = new Date()
      const { from, to } = bucket === 'DAY' ? lastDays(now, 30) : lastMonths(now, 12)
      this.setData({ loading: true })
      try {
        const points = await myUsage(this.data.accountId, bucket, from, to)
        if (this.data.bucket !== bucket) return // switched meanwhile
        this.setData({ loading: false, points, ...views(points, bucket), error: noError })
      } catch (e) {
        if (this.data.bucket !== bucket) return
        this.setData({ loading: false, points: [], bars: [], rows: [], total: '', ...failure(e) })
      }
    },
    onBucket(e: { currentTarget: { dataset: { bucket: Bucket } } }) {
      const bucket = e.currentTarget.dataset.bucket === 'MONTH' ? 'MONTH' : 'DAY'
      if (bucket === this.data.bucket) return undefined
      this.setData({ bucket, points: [], bars: [], rows: [], total: '' })
      return this.load()
    },
    onLang() {
      const t = switchLanguage('usage_title')
      const heading = this.data.number ? fmt('home_account', { number: this.data.number }) : ''
      this.setData({ t, heading, ...views(this.data.points, this.data.bucket) })
    },
  },
})
