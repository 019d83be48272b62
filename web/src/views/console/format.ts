// The console spans tenants in many time zones: instants are shown in the browser's own zone
// (named in the page), not in any tenant's.
import { formatDateTime } from '@/lib/time'

export const browserZone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
})()

export function when(iso: string | null | undefined, seconds = true): string {
  return formatDateTime(iso, seconds, browserZone)
}

/** IANA zones the browser knows, for the new-tenant form (the server checks the name). */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] }
  const all = intl.supportedValuesOf?.('timeZone') ?? []
  const first = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'UTC']
  return [...first, ...all.filter((z) => !first.includes(z))]
}
