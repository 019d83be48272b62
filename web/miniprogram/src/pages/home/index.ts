import { single } from '../../lib/guard'
import { dict, dictionaries, fmt } from '../../lib/i18n'
import { formatPrice, formatYuan } from '../../lib/money'
import { platform, WxError } from '../../lib/platform'
import { priceNotice, PriceNotice } from '../../lib/prices'
import { MyAccount, myAccounts, myPriceChanges, myProperties, myUsage, PriceChange, PropertyContact } from '../../lib/queries'
import { isPostPaid, pricesNow, stateWords } from '../../lib/state'
import { subscribe, templateIds } from '../../lib/subscribe'
import { kwh, monthToDate, todayAndMonth } from '../../lib/usage'
import { failure, noError, PageThis, switchLanguage, titled } from '../../lib/view'

/** Today's and this month's kWh of an account (exact decimal strings). */
type Usage = { today: string; month: string }

interface AccountView {
  id: string
  heading: string
  balance: string
  stateWord: string
  stateHint: string
  tone: string
  prices: string[]
  postPaid: boolean
  canRecharge: boolean
  /** Usage was read (else the row shows dashes). */
  hasUsage: boolean
  usageToday: string
  usageMonth: string
}

interface ContactView {
  id: string
  name: string
  contactName: string
  phone: string
  callLabel: string
}

interface NoticeView extends PriceNotice {
  key: string
}

const initial = {
  t: dictionaries.zh,
  loading: true,
  accounts: [] as AccountView[],
  raw: [] as MyAccount[],
  usage: {} as Record<string, Usage>,
  notices: [] as NoticeView[],
  changes: [] as PriceChange[],
  contacts: [] as ContactView[],
  properties: [] as PropertyContact[],
  /** The subscription templates (mySubscriptionTemplates), read before the tap asks them. */
  templateIds: [] as string[],
  templatesRead: false,
  subscription: '',
  error: noError,
}
type Data = typeof initial

/** The account as the page shows it, in the current language. */
export function accountView(a: MyAccount, usage?: Usage): AccountView {
  const t = dict()
  const s = stateWords(a)
  const postPaid = isPostPaid(a)
  return {
    id: a.id,
    heading: fmt('home_account', { number: a.number }),
    balance: formatYuan(a.balance),
    stateWord: t[s.word],
    stateHint: t[s.hint],
    tone: s.tone,
    prices: pricesNow(a).map(formatPrice),
    postPaid,
    canRecharge: a.state === 'OPEN' && !postPaid,
    hasUsage: !!usage,
    usageToday: usage ? kwh(usage.today) : '—',
    usageMonth: usage ? kwh(usage.month) : '—',
  }
}

function contactView(p: PropertyContact): ContactView {
  return { id: p.id, name: p.name, contactName: p.contactName, phone: p.contactPhone, callLabel: fmt('contact_call', { phone: p.contactPhone }) }
}

function noticeViews(changes: PriceChange[]): NoticeView[] {
  return changes.map((c) => ({ key: `${c.tariffName}|${c.effectiveFrom}`, ...priceNotice(c) }))
}

/** This month's usage by day (the last bucket is today); null when it cannot be read. */
async function usageOf(a: MyAccount, now: Date): Promise<Usage | null> {
  if (a.state !== 'OPEN') return null
  const { from, to } = monthToDate(now)
  try {
    return todayAndMonth(await myUsage(a.id, 'DAY', from, to))
  } catch {
    return null
  }
}

Component({
  data: initial,
  methods: {
    onLoad() {
      this.setData({ t: titled('home_title') })
    },
    onShow() {
      return this.load()
    },
    onPullDownRefresh() {
      return this.load()
    },
    async load() {
      let raw: MyAccount[]
      try {
        raw = await myAccounts()
        this.setData({ loading: false, raw, accounts: raw.map((a) => accountView(a, this.data.usage[a.id])), error: noError })
      } catch (e) {
        this.setData({ loading: false, ...failure(e) })
        return
      }
      // The rest is extra: a failure there hides nothing of the balance.
      const now = new Date()
      const [changes, properties, ids, usages] = await Promise.all([
        myPriceChanges().catch(() => null),
        myProperties().catch(() => null),
        templateIds().catch(() => null),
        Promise.all(raw.map((a) => usageOf(a, now))),
      ])
      const usage: Record<string, Usage> = {}
      raw.forEach((a, i) => {
        const u = usages[i]
        if (u) usage[a.id] = u
      })
      const contacts = (properties || []).filter((p) => p.contactName || p.contactPhone)
      this.setData({
        usage,
        accounts: raw.map((a) => accountView(a, usage[a.id])),
        changes: changes || [],
        notices: noticeViews(changes || []),
        properties: contacts,
        contacts: contacts.map(contactView),
        templateIds: ids || [],
        templatesRead: ids !== null,
      })
    },
    onLang() {
      this.setData({
        t: switchLanguage('home_title'),
        accounts: this.data.raw.map((a) => accountView(a, this.data.usage[a.id])),
        notices: noticeViews(this.data.changes),
        contacts: this.data.properties.map(contactView),
        subscription: '',
      })
    },
    onRecharge(e: { currentTarget: { dataset: { id: string } } }) {
      platform().navigateTo(`/pages/recharge/index?id=${e.currentTarget.dataset.id}`)
    },
    onUsage(e: { currentTarget: { dataset: { id: string } } }) {
      platform().navigateTo(`/pages/usage/index?id=${e.currentTarget.dataset.id}`)
    },
    onHistory(e: { currentTarget: { dataset: { id: string } } }) {
      platform().navigateTo(`/pages/history/index?id=${e.currentTarget.dataset.id}`)
    },
    onBills() {
      platform().navigateTo('/pages/bills/index')
    },
    onBindMore() {
      platform().navigateTo('/pages/bind/index')
    },
    async onCall(e: { currentTarget: { dataset: { phone: string } } }) {
      try {
        await platform().makePhoneCall(e.currentTarget.dataset.phone)
      } catch (err) {
        // Closing the dialog is no failure.
        if (!(err instanceof WxError && err.cancelled)) this.setData(failure(err))
      }
    },
    onSubscribe: single(async function (this: PageThis<Data>) {
      const t = dict()
      try {
        // The templates were read with the page, so the dialog opens within the tap.
        const r = await (this.data.templatesRead ? subscribe(this.data.templateIds) : templateIds().then(subscribe))
        const subscription = r.kind === 'unset' ? t.home_subscribe_unset : r.kind === 'none' ? t.home_subscribe_none : fmt('home_subscribed', { n: r.remaining })
        this.setData({ subscription, error: noError })
      } catch (e) {
        this.setData(failure(e))
      }
    }),
  },
})
