// Live updates over graphql-transport-ws (`/graphql/ws`). The token goes in connection_init;
// the server closes the socket (4401) when that token expires, so after every refresh the
// socket is re-opened with the new token and the live subscriptions are taken up again.
import { createClient, type Client } from 'graphql-ws'
import { accessToken, onTokens } from './auth'
import type { TypedDocument } from './graphql'

interface Live {
  query: string
  variables: Record<string, unknown>
  next: (data: unknown) => void
  onRefused?: (errors: unknown[]) => void
  stop?: () => void
}

const subs = new Set<Live>()
let client: Client | null = null
let retryTimer: ReturnType<typeof setTimeout> | undefined
export const liveState = { connected: false }
const stateListeners = new Set<(c: boolean) => void>()
export function onLiveState(l: (c: boolean) => void) {
  stateListeners.add(l)
  return () => stateListeners.delete(l)
}
function setConnected(c: boolean) {
  liveState.connected = c
  stateListeners.forEach((l) => l(c))
}

function url(): string {
  const { protocol, host } = window.location
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/graphql/ws`
}

function ensureClient(): Client {
  if (client) return client
  // Events of a disposed client (its late "closed") must not overwrite the current state.
  const mine: { c: Client | null } = { c: null }
  mine.c = client = createClient({
    url: url(),
    lazy: true,
    keepAlive: 20_000,
    retryAttempts: 5,
    connectionParams: async () => {
      const token = await accessToken()
      return token ? { Authorization: `Bearer ${token}` } : {}
    },
    on: {
      connected: () => client === mine.c && setConnected(true),
      closed: () => client === mine.c && setConnected(false),
    },
  })
  return client
}

function start(s: Live) {
  const c = ensureClient()
  s.stop = c.subscribe(
    { query: s.query, variables: s.variables },
    {
      next: (msg) => {
        if (msg.data) s.next(msg.data)
      },
      // GraphQL errors (a refusal: FORBIDDEN, a bad query) are final for this subscription;
      // a closed socket (expired token, server restart) is worth a new start.
      error: (err) => {
        if (Array.isArray(err)) {
          subs.delete(s)
          s.onRefused?.(err)
        } else restartSoon()
      },
      complete: () => undefined,
    },
  )
}

function restartAll() {
  for (const s of subs) s.stop?.()
  client?.dispose()
  client = null
  setConnected(false)
  for (const s of subs) start(s)
}

/** After a fatal close (an expired token, a restart of the server): start over shortly. */
function restartSoon() {
  if (retryTimer) return
  retryTimer = setTimeout(() => {
    retryTimer = undefined
    if (subs.size > 0) restartAll()
  }, 3_000)
}

onTokens((t) => {
  if (t) {
    if (subs.size > 0) restartAll()
  } else {
    for (const s of subs) s.stop?.()
    client?.dispose()
    client = null
    setConnected(false)
  }
})

export function subscribe<TResult, TVariables>(
  doc: TypedDocument<TResult, TVariables>,
  variables: TVariables,
  next: (data: TResult) => void,
  onRefused?: (errors: unknown[]) => void,
): () => void {
  const s: Live = { query: doc.toString(), variables: (variables ?? {}) as Record<string, unknown>, next: next as (d: unknown) => void, onRefused }
  subs.add(s)
  start(s)
  return () => {
    subs.delete(s)
    s.stop?.()
  }
}
