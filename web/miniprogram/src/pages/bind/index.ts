import { single } from '../../lib/guard'
import { dict, dictionaries } from '../../lib/i18n'
import { platform } from '../../lib/platform'
import { bindAccount } from '../../lib/queries'
import { failure, noError, PageThis, switchLanguage, titled } from '../../lib/view'

const initial = { t: dictionaries.zh, number: '', code: '', busy: false, error: noError }
type Data = typeof initial

/** `bindgetphonenumber`: `detail.code` when the customer allowed it, else an `errMsg`. */
interface PhoneEvent {
  detail: { code?: string; errMsg?: string }
}

Component({
  data: initial,
  methods: {
    onLoad() {
      this.setData({ t: titled('bind_title') })
    },
    onLang() {
      this.setData({ t: switchLanguage('bind_title') })
    },
    onNumber(e: { detail: { value: string } }) {
      this.setData({ number: e.detail.value.trim().toUpperCase() })
    },
    onCode(e: { detail: { value: string } }) {
      this.setData({ code: e.detail.value.toUpperCase() })
    },
    /** The second way: the account number with the binding code the property printed (绑定码). */
    onBindCode: single(async function (this: PageThis<Data>) {
      const t = dict()
      const number = this.data.number.trim()
      if (!number) return this.setData({ error: { title: t.bind_need_number, detail: '', relogin: false } })
      const code = this.data.code.replace(/[^0-9A-Za-z]/g, '')
      if (!code) return this.setData({ error: { title: t.bind_need_code, detail: '', relogin: false } })
      this.setData({ busy: true, error: noError })
      try {
        await bindAccount(number, { bindingCode: code })
        platform().toast(t.bind_done)
        platform().reLaunch('/pages/home/index')
      } catch (err) {
        this.setData({ busy: false, ...failure(err) })
      }
    }),
    onPhone: single(async function (this: PageThis<Data>, e: PhoneEvent) {
      const t = dict()
      const number = this.data.number.trim()
      if (!number) return this.setData({ error: { title: t.bind_need_number, detail: '', relogin: false } })
      const code = e && e.detail && e.detail.code
      if (!code) return this.setData({ error: { title: t.bind_phone_denied, detail: (e && e.detail && e.detail.errMsg) || '', relogin: false } })
      this.setData({ busy: true, error: noError })
      try {
        await bindAccount(number, { phoneCode: code })
        platform().toast(t.bind_done)
        platform().reLaunch('/pages/home/index')
      } catch (err) {
        this.setData({ busy: false, ...failure(err) })
      }
    }),
  },
})
