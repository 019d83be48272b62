import { loginWithWechat, signedIn } from '../../lib/api'
import { single } from '../../lib/guard'
import { dictionaries } from '../../lib/i18n'
import { platform } from '../../lib/platform'
import { myAccounts } from '../../lib/queries'
import { failure, noError, switchLanguage, titled } from '../../lib/view'

/** Home when an account is bound, else the bind page. */
async function next(): Promise<void> {
  const accounts = await myAccounts()
  platform().reLaunch(accounts.length ? '/pages/home/index' : '/pages/bind/index')
}

Component({
  data: { t: dictionaries.zh, busy: false, error: noError },
  methods: {
    onLoad() {
      this.setData({ t: titled('app_name') })
      if (signedIn()) {
        this.setData({ busy: true })
        next().catch(() => this.setData({ busy: false }))
      }
    },
    onLang() {
      this.setData({ t: switchLanguage('app_name') })
    },
    onLogin: single(async function (this: { setData(d: Record<string, unknown>): void }) {
      this.setData({ busy: true, error: noError })
      try {
        await loginWithWechat()
        await next()
      } catch (e) {
        this.setData({ busy: false, ...failure(e) })
      }
    }),
  },
})
