// Subscription messages (订阅消息): the templates the property set up (mySubscriptionTemplates),
// at most three asked at a time with `wx.requestSubscribeMessage`, and the accepted ones
// reported to the server (reportSubscriptions), which then may send that many alerts.

import { platform } from './platform'
import { mySubscriptionTemplates, reportSubscriptions } from './queries'

/** WeChat asks about at most three templates in one dialog. */
export const MAX_ASKED = 3

/** The template ids to ask, distinct, at most three; none when the property set up none. */
export async function templateIds(): Promise<string[]> {
  const ids: string[] = []
  for (const t of await mySubscriptionTemplates()) if (t.templateId && ids.indexOf(t.templateId) < 0) ids.push(t.templateId)
  return ids.slice(0, MAX_ASKED)
}

export type Subscribed = { kind: 'unset' } | { kind: 'none' } | { kind: 'subscribed'; remaining: number }

/**
 * Asks the customer about `ids` and reports the accepted ones. Call it from the tap itself,
 * before any other await: WeChat shows the dialog only in answer to a tap.
 */
export async function subscribe(ids: readonly string[]): Promise<Subscribed> {
  const asked = ids.slice(0, MAX_ASKED)
  if (!asked.length) return { kind: 'unset' }
  const answers = await platform().requestSubscribeMessage(asked)
  const accepted = asked.filter((id) => answers[id] === 'accept')
  if (!accepted.length) return { kind: 'none' }
  const left = await reportSubscriptions(accepted)
  const remaining = left.filter((s) => accepted.indexOf(s.templateId) >= 0).reduce((sum, s) => sum + s.remaining, 0)
  return { kind: 'subscribed', remaining }
}
