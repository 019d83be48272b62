// The lib's sign-ins for the mobile pages over the browser Platform: the paths and bodies the
// server contract names, tokens kept under the mobile prefix, refusals in words.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configure } from '@mp/config'
import { ApiError, customerConfig, gql, loginWithBindingCode, loginWithOfficialAccount, logout, signedIn } from '@mp/lib/api'
import { describe as words } from '@mp/lib/errors'
import { dictionaries, resetLang } from '@mp/lib/i18n'
import { setPlatform } from '@mp/lib/platform'
import { browserPlatform, STORAGE_PREFIX } from '../../mobile/src/platform'

type Call = { url: string; method: string; body: unknown; auth: string | null }
let calls: Call[]
let answers: Response[]
let store: Map<string, string>

beforeEach(() => {
  calls = []
  answers = []
  store = new Map()
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const headers = new Headers(init.headers)
    calls.push({ url, method: String(init.method), body: init.body ? JSON.parse(String(init.body)) : undefined, auth: headers.get('Authorization') })
    const next = answers.shift()
    if (!next) throw new TypeError('Failed to fetch')
    return next
  })
  setPlatform(
    browserPlatform({
      fetch,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
      navigate: () => undefined,
      back: () => undefined,
      toast: () => undefined,
      setTitle: () => undefined,
      bridge: () => undefined,
      onBridgeReady: () => undefined,
    }),
  )
  configure({ apiBase: '', tenant: 'demo' })
  resetLang()
})

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status })
const tokens = { accessToken: 'acc', refreshToken: 'ref', expiresIn: 900 }

describe('mobile sign-ins', () => {
  it('reads the company\'s customer configuration', async () => {
    answers.push(json(200, { tenant: '示例物业', officialAccount: { appId: 'wxoa', authorizeUrl: 'http://standin/connect/oauth2/authorize' }, wechatPay: true, alipay: true }))
    const cfg = await customerConfig()
    expect(calls[0]).toMatchObject({ url: '/auth/customer-config?tenant=demo', method: 'GET', body: undefined })
    expect(cfg).toEqual({ tenant: '示例物业', officialAccount: { appId: 'wxoa', authorizeUrl: 'http://standin/connect/oauth2/authorize' }, wechatPay: true, alipay: true })
  })

  it('binding code: POST /auth/binding-code, tokens kept under the mobile prefix, then GraphQL with the bearer', async () => {
    answers.push(json(200, tokens), json(200, { data: { myAccounts: [] } }))
    await loginWithBindingCode('A00000001', 'AB3DEF7H')
    expect(calls[0]).toMatchObject({ url: '/auth/binding-code', method: 'POST', body: { tenant: 'demo', accountNumber: 'A00000001', bindingCode: 'AB3DEF7H' } })
    expect(signedIn()).toBe(true)
    expect(store.has('voltledger.tokens')).toBe(false)
    expect(JSON.parse(store.get(`${STORAGE_PREFIX}voltledger.tokens`) ?? '{}').accessToken).toBe('acc')
    await gql('{ myAccounts { id } }')
    expect(calls[1]).toMatchObject({ url: '/graphql', auth: 'Bearer acc' })
  })

  it('official account: POST /auth/wechat-oa with the code', async () => {
    answers.push(json(200, tokens))
    await loginWithOfficialAccount('CODE')
    expect(calls[0]).toMatchObject({ url: '/auth/wechat-oa', body: { tenant: 'demo', code: 'CODE' } })
    expect(signedIn()).toBe(true)
  })

  it('a wrong binding code is the server\'s refusal, said as a wrong code with its message', async () => {
    answers.push(json(401, { error: 'BINDING_REFUSED', message: 'the account number or binding code is wrong' }))
    const e = await loginWithBindingCode('A1', 'WRONG').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ kind: 'server', code: 'BINDING_REFUSED' })
    const shown = words(e)
    expect(shown.title).toBe(dictionaries.zh.err_bind_code)
    expect(shown.detail).toBe('the account number or binding code is wrong')
    expect(signedIn()).toBe(false)
  })

  it('locked after too many codes, and throttled: said as such', async () => {
    answers.push(json(429, { error: 'BINDING_REFUSED', message: 'too many wrong codes: locked for 1 h' }))
    expect(words(await loginWithBindingCode('A1', 'X').catch((x: unknown) => x)).title).toBe(dictionaries.zh.err_bind_code_locked)
    answers.push(new Response('', { status: 429 }))
    expect(words(await loginWithBindingCode('A1', 'X').catch((x: unknown) => x)).title).toBe(dictionaries.zh.err_too_many)
    answers.push(json(429, { error: 'TOO_MANY_ATTEMPTS', message: 'too many login attempts; try again later' }))
    expect(words(await loginWithOfficialAccount('C').catch((x: unknown) => x)).title).toBe(dictionaries.zh.err_too_many)
  })

  it('WeChat refusing the OAuth code is WeChat\'s failure; no network is the network\'s', async () => {
    answers.push(json(502, { error: 'WECHAT_REFUSED', message: 'invalid code' }))
    expect(words(await loginWithOfficialAccount('C').catch((x: unknown) => x))).toMatchObject({ title: dictionaries.zh.err_wechat, detail: 'invalid code' })
    expect(words(await loginWithOfficialAccount('C').catch((x: unknown) => x))).toMatchObject({ title: dictionaries.zh.err_network, detail: 'request:fail Failed to fetch' })
  })

  it('logout ends the session on the server and forgets the tokens', async () => {
    answers.push(json(200, tokens), new Response(null, { status: 204 }))
    await loginWithBindingCode('A1', 'C')
    await logout()
    expect(calls[1]).toMatchObject({ url: '/auth/logout', method: 'POST', auth: 'Bearer acc' })
    expect(signedIn()).toBe(false)
    // Offline: still signed out here.
    answers.push(json(200, tokens))
    await loginWithBindingCode('A1', 'C')
    await logout()
    expect(signedIn()).toBe(false)
  })
})
