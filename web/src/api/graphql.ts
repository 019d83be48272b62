// The typed GraphQL client: documents come from codegen (`TypedDocumentString`), so variables
// and results are typed from the committed schema. Errors keep the server's code and field.
import { accessToken, isLoggedIn, refresh } from './auth'

export interface TypedDocument<TResult, TVariables> {
  toString(): string
  /** Phantom types carried by codegen's TypedDocumentString. */
  __apiType?: (variables: TVariables) => TResult
}

export interface ServerError {
  message: string
  code: string
  field?: string
  path?: readonly (string | number)[]
}

/** A GraphQL (or transport) failure: `errors[0]` is what operators should read. */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: ServerError[]) {
    super(errors.map((e) => e.message).join('; '))
  }
  get code(): string {
    return this.errors[0]?.code ?? 'ERROR'
  }
  get field(): string | undefined {
    return this.errors.find((e) => e.field)?.field
  }
  has(code: string): boolean {
    return this.errors.some((e) => e.code === code)
  }
}

type Unauthenticated = () => void
let onUnauthenticated: Unauthenticated = () => undefined
export function setUnauthenticatedHandler(f: Unauthenticated) {
  onUnauthenticated = f
}

interface RawError {
  message: string
  path?: (string | number)[]
  extensions?: { code?: string; field?: string }
}

function toErrors(raw: RawError[]): ServerError[] {
  return raw.map((e) => ({ message: e.message, code: e.extensions?.code ?? 'ERROR', field: e.extensions?.field, path: e.path }))
}

async function post(query: string, variables: unknown, token: string | null, signal?: AbortSignal) {
  const operationName = /^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1]
  return fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables, operationName }),
    signal,
  })
}

export async function request<TResult, TVariables>(
  doc: TypedDocument<TResult, TVariables>,
  ...[variables, opts]: TVariables extends Record<string, never> ? [TVariables?, { signal?: AbortSignal }?] : [TVariables, { signal?: AbortSignal }?]
): Promise<TResult> {
  const query = doc.toString()
  let token = await accessToken()
  let res: Response
  try {
    res = await post(query, variables ?? {}, token, opts?.signal)
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new GraphQLRequestError([{ message: 'network error', code: 'NETWORK' }])
  }
  let body: { data?: TResult; errors?: RawError[] } = {}
  try {
    body = await res.json()
  } catch {
    throw new GraphQLRequestError([{ message: `HTTP ${res.status}`, code: res.status >= 500 ? 'INTERNAL' : 'HTTP_' + res.status }])
  }
  let errors = body.errors ? toErrors(body.errors) : []
  if (errors.some((e) => e.code === 'UNAUTHENTICATED') && token) {
    // The access token expired or was revoked: one refresh, one retry.
    const t = await refresh().catch(() => null)
    if (t) {
      token = t.accessToken
      try {
        res = await post(query, variables ?? {}, token, opts?.signal)
        body = await res.json()
        errors = body.errors ? toErrors(body.errors) : []
      } catch {
        throw new GraphQLRequestError([{ message: 'network error', code: 'NETWORK' }])
      }
    }
  }
  // Signed out only when the server refused the refresh token too (auth.ts then drops the
  // tokens); a refresh that failed on the way keeps the session for the next try.
  if (errors.some((e) => e.code === 'UNAUTHENTICATED') && !isLoggedIn()) onUnauthenticated()
  if (errors.length > 0) throw new GraphQLRequestError(errors)
  if (!body.data) throw new GraphQLRequestError([{ message: 'empty answer', code: 'INTERNAL' }])
  return body.data
}

/** A new idempotency key for one business action (kept across retries of that action). */
export function idempotencyKey(): string {
  return crypto.randomUUID()
}
