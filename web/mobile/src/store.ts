// What every page shares: the company (and what it accepts), whether this is WeChat's browser,
// the customer's accounts with their meters' relays, and which account is chosen (kept, so a
// customer with several accounts comes back to the one they looked at).

import { reactive } from 'vue'
import { customerConfig, gql, type CustomerConfig } from '@mp/lib/api'
import { platform } from '@mp/lib/platform'
import type { MyAccount, MyMeter } from '@mp/lib/queries'

export interface HomeMeter extends MyMeter {
  propertyId: string
  /** The relay as the meter last reported it (null: never reported). */
  live: { relayOpen: boolean | null }
}

export interface HomeAccount extends Omit<MyAccount, 'meters'> {
  meters: HomeMeter[]
}

const HOME = `query MobileAccounts { myAccounts { id number balance state balanceState relay holdPower
  meters { id address billingMode priceNow propertyId live { relayOpen } } } }`

export const session = reactive({
  tenant: '',
  config: null as CustomerConfig | null,
  wechat: false,
  accounts: [] as HomeAccount[],
  currentId: '',
  loaded: false,
})

const CURRENT = 'account'
/** Set when the customer signed out: the login page waits for a tap instead of WeChat's OAuth. */
export const MANUAL_LOGIN = 'manual-login'
/** How the session was opened: `oa` (WeChat's OAuth) or `code` (an account number and its binding code). */
export const SIGNED_IN_BY = 'signed-in-by'

export function signedInBy(): 'oa' | 'code' {
  return platform().getItem(SIGNED_IN_BY) === 'code' ? 'code' : 'oa'
}

export async function loadConfig(): Promise<CustomerConfig> {
  if (!session.config) session.config = await customerConfig()
  return session.config
}

export async function loadAccounts(): Promise<HomeAccount[]> {
  // Open accounts first; closed ones stay reachable (their history) at the end.
  const list = (await gql<{ myAccounts: HomeAccount[] }>(HOME)).myAccounts.sort((a, b) => Number(a.state === 'CLOSED') - Number(b.state === 'CLOSED'))
  session.accounts = list
  session.loaded = true
  const kept = session.currentId || platform().getItem(CURRENT)
  const pick = list.find((a) => a.id === kept) ?? list.find((a) => a.state === 'OPEN') ?? list[0]
  session.currentId = pick ? pick.id : ''
  return list
}

export function currentAccount(): HomeAccount | undefined {
  return session.accounts.find((a) => a.id === session.currentId)
}

export function chooseAccount(id: string): void {
  session.currentId = id
  platform().setItem(CURRENT, id)
}

export function forgetSession(): void {
  session.accounts = []
  platform().removeItem(SIGNED_IN_BY)
  session.currentId = ''
  session.loaded = false
  platform().removeItem(CURRENT)
}

/** True when every meter of the account reports its relay closed (power on). */
export function powerOn(a: HomeAccount): boolean {
  return a.meters.every((m) => m.live.relayOpen !== true)
}
