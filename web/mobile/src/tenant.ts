// Which company the customer belongs to. A property company hands out links (or QR codes)
// like `https://host/m/?tenant=parkco`; the company code is kept (a session belongs to one
// company), and a link naming another company ends the current session.

import type { StateStore } from './oauth'

const KEY = 'tenant'
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/

/** The company code from `?tenant=` (or `?t=`), else the one kept; null when neither. */
export function resolveTenant(search: string, store: StateStore): { tenant: string | null; changed: boolean } {
  const params = new URLSearchParams(search)
  const given = (params.get('tenant') ?? params.get('t') ?? '').trim().toLowerCase()
  const kept = store.getItem(KEY)
  if (given && SLUG.test(given)) {
    store.setItem(KEY, given)
    return { tenant: given, changed: !!kept && kept !== given }
  }
  return { tenant: kept && SLUG.test(kept) ? kept : null, changed: false }
}

export function keepTenant(store: StateStore, tenant: string): boolean {
  const t = tenant.trim().toLowerCase()
  if (!SLUG.test(t)) return false
  store.setItem(KEY, t)
  return true
}
