// A page's failure: the words (lib/errors.ts), and back to the login page when the session
// has ended (lib/api.ts already dropped the tokens then).
import { ref } from 'vue'
import { useRouter } from 'vue-router'
import { describe, type Shown } from '@mp/lib/errors'
import { forgetSession } from './store'

export function useFailure() {
  const router = useRouter()
  const error = ref<Shown | null>(null)
  function fail(e: unknown): Shown {
    const shown = describe(e)
    error.value = shown
    if (shown.relogin) {
      forgetSession()
      void router.replace({ path: '/login', query: { next: router.currentRoute.value.fullPath } })
    }
    return shown
  }
  function say(title: string, detail = '') {
    error.value = { title, detail, relogin: false }
  }
  return { error, fail, say, clear: () => (error.value = null) }
}

/** An ISO instant as local `YYYY-MM-DD` (and ` HH:mm` unless it is midnight). */
export function localDate(iso: string, withTime = true): string {
  const d = new Date(iso)
  if (isNaN(d.getTime())) return iso
  const p = (n: number) => String(n).padStart(2, '0')
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
  if (!withTime || (d.getHours() === 0 && d.getMinutes() === 0)) return day
  return `${day} ${p(d.getHours())}:${p(d.getMinutes())}`
}
