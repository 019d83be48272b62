// The batches this browser started, newest first (the API finds a batch by id only).
const KEY = 'voltledger.batches'
const MAX = 20

export interface RecentBatch {
  id: string
  kind: string
  total: number
  at: string
}

export function recentBatches(): RecentBatch[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]')
    return Array.isArray(v) ? v : []
  } catch {
    return []
  }
}

export function rememberBatch(b: RecentBatch) {
  const list = [b, ...recentBatches().filter((x) => x.id !== b.id)].slice(0, MAX)
  localStorage.setItem(KEY, JSON.stringify(list))
}
