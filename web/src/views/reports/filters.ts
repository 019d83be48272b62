// The reports' filters live in the route's query (`/reports?tab=sales&from=…&to=…&bucket=…`):
// kept when the header's property changes (the layout re-mounts the screen), across tabs
// (the range is shared) and on reload, and a report can be linked to.
import { computed } from 'vue'
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router'
import { isDate, shortcutRange, todayIn, type DayRange } from '@/lib/reports'

export function useReportQuery() {
  const route = useRoute()
  const router = useRouter()
  const text = (k: string): string | undefined => {
    const v = route.query[k]
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  function patch(p: Record<string, string | undefined>) {
    const query: LocationQueryRaw = { ...route.query }
    for (const [k, v] of Object.entries(p)) {
      if (v === undefined || v === '') delete query[k]
      else query[k] = v
    }
    void router.replace({ query })
  }
  /** The local day range; this month so far unless the query names one. */
  const range = computed<DayRange>({
    get: () => {
      const from = text('from')
      const to = text('to')
      return isDate(from) && isDate(to) ? ([from, to] as DayRange) : shortcutRange('thisMonth', todayIn())
    },
    set: (r: DayRange) => patch({ from: r[0], to: r[1] }),
  })
  return { text, patch, range }
}
