import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN'
import enUS from './locales/en-US'

export type Lang = 'zh-CN' | 'en-US'
const KEY = 'voltledger.lang'

export function savedLang(): Lang {
  const v = typeof localStorage !== 'undefined' ? localStorage.getItem(KEY) : null
  return v === 'en-US' ? 'en-US' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLang(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, 'en-US': enUS },
  missingWarn: import.meta.env.DEV,
  fallbackWarn: false,
})

export function setLang(lang: Lang) {
  i18n.global.locale.value = lang
  localStorage.setItem(KEY, lang)
  document.documentElement.lang = lang
}
