import { single } from '../../lib/guard'
import { dict, dictionaries, fmt, Key } from '../../lib/i18n'
import { checkAmount, fenToDecimal, formatYuan, PRESETS, toFen } from '../../lib/money'
import { recharge } from '../../lib/pay'
import { platform } from '../../lib/platform'
import { MyAccount, myAccounts, rechargeFee } from '../../lib/queries'
import { subscribe, templateIds } from '../../lib/subscribe'
import { failure, noError, PageThis, switchLanguage, titled } from '../../lib/view'

const initial = {
  t: dictionaries.zh,
  accountId: '',
  number: '',
  balance: '',
  presets: PRESETS.map((p) => ({ value: fenToDecimal(toFen(p)), label: formatYuan(p) })),
  /** The amount to pay, "20.00", or '' when none is valid. */
  amount: '',
  amountLabel: '',
  preset: -1,
  custom: '',
  amountError: '',
  feeText: '',
  paying: false,
  status: '',
  done: '',
  /** The subscription templates, read with the page: the pay tap asks them before paying. */
  templateIds: [] as string[],
  error: noError,
}
type Data = typeof initial

/** Once the server refuses `rechargeFee` to customers, ask no more this session. */
let feePolicyOnly = false

Component({
  data: initial,
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ t: titled('recharge_title'), accountId: query.id || '', feeText: feePolicyOnly ? dict().recharge_fee_policy : '' })
      await Promise.all([this.refresh(), this.templates()])
    },
    async templates() {
      try {
        this.setData({ templateIds: await templateIds() })
      } catch {
        // No alerts offered then; paying does not depend on them.
      }
    },
    async refresh(): Promise<MyAccount | undefined> {
      try {
        const a = (await myAccounts()).find((x) => x.id === this.data.accountId)
        if (a) this.setData({ number: a.number, balance: formatYuan(a.balance) })
        return a
      } catch (e) {
        this.setData(failure(e))
        return undefined
      }
    },
    onLang() {
      this.setData({ t: switchLanguage('recharge_title') })
      this.choose(this.data.amount, this.data.preset, this.data.amountError ? this.data.custom : '')
    },
    onPreset(e: { currentTarget: { dataset: { index: number } } }) {
      const i = Number(e.currentTarget.dataset.index)
      this.setData({ custom: '' })
      this.choose(this.data.presets[i].value, i, '')
    },
    onCustom(e: { detail: { value: string } }) {
      const value = e.detail.value
      this.setData({ custom: value })
      const c = checkAmount(value)
      this.choose(c.ok ? c.decimal : '', -1, c.ok ? '' : value)
    },
    /** Sets the amount (or the custom input's problem) and fetches the fee. */
    choose(amount: string, preset: number, badInput: string) {
      const t = dict()
      let amountError = ''
      if (badInput || (!amount && preset < 0 && this.data.custom)) {
        const c = checkAmount(badInput || this.data.custom)
        if (!c.ok) amountError = t[`amount_${c.reason}` as Key]
      }
      this.setData({
        amount,
        preset,
        amountError,
        amountLabel: amount ? fmt('recharge_pay', { amount: formatYuan(amount) }) : '',
        done: '',
      })
      if (amount) this.quote(amount)
    },
    async quote(amount: string) {
      const t = dict()
      if (feePolicyOnly) return this.setData({ feeText: t.recharge_fee_policy })
      try {
        const q = await rechargeFee(this.data.accountId, amount)
        if (this.data.amount !== amount) return // the customer chose another amount meanwhile
        if (q.kind === 'policy') {
          feePolicyOnly = true
          this.setData({ feeText: t.recharge_fee_policy })
        } else {
          const credit = formatYuan(toFen(amount) - toFen(q.fee))
          this.setData({ feeText: fmt('recharge_fee_amount', { fee: formatYuan(q.fee), credit }) })
        }
      } catch {
        this.setData({ feeText: t.recharge_fee_policy })
      }
    },
    onPay: single(async function (this: PageThis<Data> & { refresh(): Promise<MyAccount | undefined> }) {
      const t = dict()
      const amount = this.data.amount
      if (!amount) {
        const c = checkAmount(this.data.custom)
        return this.setData({ amountError: t[`amount_${c.ok ? 'empty' : c.reason}` as Key] })
      }
      // Balance alerts first, within the tap (WeChat asks only then); whatever the answer, pay.
      const asked = subscribe(this.data.templateIds).catch(() => null)
      this.setData({ paying: true, status: t.recharge_paying, error: noError, done: '' })
      try {
        await asked
        const paid = await recharge(this.data.accountId, amount)
        const a = await this.refresh()
        if (!paid.confirmed) {
          this.setData({ paying: false, status: '', done: t.recharge_pending })
          return
        }
        const credit = paid.creditedFen === null ? formatYuan(amount) : formatYuan(paid.creditedFen)
        const done = fmt('recharge_done', { credit, balance: a ? formatYuan(a.balance) : this.data.balance })
        this.setData({ paying: false, status: '', done })
        platform().toast(done)
      } catch (e) {
        this.setData({ paying: false, status: '', ...failure(e) })
      }
    }),
  },
})
