import { getConfig } from '../../config'
import { single } from '../../lib/guard'
import { dict, dictionaries, fmt } from '../../lib/i18n'
import { formatPrice, formatYuan } from '../../lib/money'
import { platform } from '../../lib/platform'
import { MyAccount, myAccounts, reportSubscriptions } from '../../lib/queries'
import { isPostPaid, pricesNow, stateWords } from '../../lib/state'
import { failure, noError, PageThis, switchLanguage, titled } from '../../lib/view'

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
}

const initial = {
  t: dictionaries.zh,
  loading: true,
  accounts: [] as AccountView[],
  raw: [] as MyAccount[],
  subscription: '',
  error: noError,
}
type Data = typeof initial

/** The account as the page shows it, in the current language. */
export function accountView(a: MyAccount): AccountView {
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
      try {
        const raw = await myAccounts()
        this.setData({ loading: false, raw, accounts: raw.map(accountView), error: noError })
      } catch (e) {
        this.setData({ loading: false, ...failure(e) })
      }
    },
    onLang() {
      this.setData({ t: switchLanguage('home_title'), accounts: this.data.raw.map(accountView), subscription: '' })
    },
    onRecharge(e: { currentTarget: { dataset: { id: string } } }) {
      platform().navigateTo(`/pages/recharge/index?id=${e.currentTarget.dataset.id}`)
    },
    onBills() {
      platform().navigateTo('/pages/bills/index')
    },
    onBindMore() {
      platform().navigateTo('/pages/bind/index')
    },
    onSubscribe: single(async function (this: PageThis<Data>) {
      const t = dict()
      const ids = getConfig().templates.slice(0, 3)
      if (!ids.length) return this.setData({ subscription: t.home_subscribe_unset })
      try {
        const answers = await platform().requestSubscribeMessage(ids)
        const accepted = ids.filter((id) => answers[id] === 'accept')
        if (!accepted.length) return this.setData({ subscription: t.home_subscribe_none, error: noError })
        const left = await reportSubscriptions(accepted)
        const n = left.filter((s) => accepted.indexOf(s.templateId) >= 0).reduce((sum, s) => sum + s.remaining, 0)
        this.setData({ subscription: fmt('home_subscribed', { n }), error: noError })
      } catch (e) {
        this.setData(failure(e))
      }
    }),
  },
})
