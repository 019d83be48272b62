// The price-change notice (myPriceChanges): per change, the tariff and the date it takes
// effect, then each rate whose price moves, before → after (a rate new in the version, its
// price). A version that changes no price (only its periods, say) lists all its prices.

import { dict, fmt } from './i18n'
import { formatPrice } from './money'
import type { PriceChange } from './queries'
import { localDate } from './view'

export interface PriceNotice {
  heading: string
  items: string[]
}

export function rateWord(rate: string): string {
  return (dict() as Record<string, string>)[`rate_${rate}`] || rate
}

export function priceNotice(c: PriceChange): PriceNotice {
  const was = (rate: string) => c.before.find((b) => b.rate === rate)
  const moved = c.after.filter((a) => {
    const b = was(a.rate)
    return !b || b.price !== a.price
  })
  const items = (moved.length ? moved : c.after).map((a) => {
    const b = was(a.rate)
    return b
      ? fmt('price_item', { rate: rateWord(a.rate), before: formatPrice(b.price), after: formatPrice(a.price) })
      : fmt('price_item_new', { rate: rateWord(a.rate), after: formatPrice(a.price) })
  })
  const heading = fmt(c.before.length ? 'price_change' : 'price_new', { tariff: c.tariffName, date: localDate(c.effectiveFrom) })
  return { heading, items }
}
