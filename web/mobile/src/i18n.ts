// vue-i18n over the mini-program's dictionary and the mobile pages' own words. One switch sets
// both this and the lib's language (lib/errors.ts words failures in it) and Vant's own texts.
// Chinese unless the customer chose English (kept like the mini-program's choice, under the
// mobile pages' storage prefix).

import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import { currentLang, dictionaries, setLang as setLibLang } from '@mp/lib/i18n'
import { en, zh } from './messages'

export type MobileLang = 'zh-CN' | 'en-US'

export const messages = {
  'zh-CN': { ...dictionaries.zh, ...zh },
  'en-US': { ...dictionaries.en, ...en },
}
export type MessageKey = keyof (typeof messages)['zh-CN']

export function createMobileI18n(lang: MobileLang) {
  return createI18n({
    legacy: false,
    locale: lang,
    fallbackLocale: 'zh-CN',
    messages,
    missingWarn: import.meta.env.DEV,
    fallbackWarn: false,
  })
}

/** The language chosen before (the lib keeps it), `zh-CN` by default. */
export function savedLang(): MobileLang {
  return currentLang() === 'en' ? 'en-US' : 'zh-CN'
}

export const i18n = createMobileI18n('zh-CN')

export function applyLang(lang: MobileLang): void {
  i18n.global.locale.value = lang
  setLibLang(lang === 'en-US' ? 'en' : 'zh')
  if (lang === 'en-US') Locale.use('en-US', vantEn)
  else Locale.use('zh-CN', vantZh)
  if (typeof document !== 'undefined') document.documentElement.lang = lang
}
