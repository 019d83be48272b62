// What every page shares: the language toggle, the error box, going back to login when the
// session is gone. Pages keep `t` (the dictionary) and `error` in their data.

import { Dict, Key, dict, toggleLang } from './i18n'
import { describe, Shown } from './errors'
import { platform } from './platform'

export const noError: Shown = { title: '', detail: '', relogin: false }

/** The data for a failure; sends the customer to the login page if the session ended. */
export function failure(e: unknown): { error: Shown } {
  const shown = describe(e)
  if (shown.relogin) platform().reLaunch('/pages/login/index')
  return { error: shown }
}

/** Switches the language; returns the new dictionary and sets the page title from `title`. */
export function switchLanguage(title: Key): Dict {
  toggleLang()
  return titled(title)
}

export function titled(title: Key): Dict {
  const t = dict()
  platform().setTitle(t[title])
  return t
}

/** An ISO time as local `YYYY-MM-DD HH:mm`. */
export function localTime(iso: string | null): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (isNaN(d.getTime())) return iso
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** An ISO time as the local date (`YYYY-MM-DD`), with `HH:mm` unless it is a midnight. */
export function localDate(iso: string | null): string {
  const full = localTime(iso)
  return full.endsWith(' 00:00') ? full.slice(0, -6) : full
}

/** What page methods wrapped by `single` need of `this`. */
export interface PageThis<D> {
  data: D
  setData(d: Partial<D> & Record<string, unknown>): void
}
