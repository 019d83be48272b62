// Official-account OAuth state (mobile/src/oauth.ts): the authorize URL WeChat expects, and a
// return accepted only with the state this page started, once, within ten minutes.
import { describe, expect, it } from 'vitest'
import { STATE_TTL_MS, authorizeUrl, beginOAuth, randomState, takeOAuthReturn, withoutOAuthParams } from '../../mobile/src/oauth'
import { keepTenant, resolveTenant } from '../../mobile/src/tenant'

function store() {
  const m = new Map<string, string>()
  return { m, getItem: (k: string) => m.get(k) ?? '', setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) }
}
const oa = { appId: 'wxoa123', authorizeUrl: 'https://open.weixin.qq.com/connect/oauth2/authorize' }
const back = 'https://pay.example.com/m/login?tenant=demo'

describe('official-account OAuth', () => {
  it('builds the authorize URL as WeChat documents it', () => {
    const url = authorizeUrl(oa, back, 'abc')
    expect(url).toBe(
      'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxoa123&redirect_uri=https%3A%2F%2Fpay.example.com%2Fm%2Flogin%3Ftenant%3Ddemo&response_type=code&scope=snsapi_base&state=abc#wechat_redirect',
    )
    // A stand-in's URL that already has a query or a fragment.
    expect(authorizeUrl({ appId: 'a', authorizeUrl: 'http://127.0.0.1:9/connect/oauth2/authorize?x=1#frag' }, back, 's')).toMatch(
      /^http:\/\/127\.0\.0\.1:9\/connect\/oauth2\/authorize\?x=1&appid=a&.*&state=s#wechat_redirect$/,
    )
  })

  it('states are random hex, 128 bits', () => {
    const a = randomState()
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(randomState()).not.toBe(a)
  })

  it('accepts the code when the state is the one started here', () => {
    const s = store()
    const url = new URL(beginOAuth(oa, back, s, 1000, 'st4te'))
    expect(url.searchParams.get('state')).toBe('st4te')
    expect(takeOAuthReturn('?tenant=demo&code=CODE1&state=st4te', s, 2000)).toEqual({ kind: 'code', code: 'CODE1' })
  })

  it('uses the state once: the same return again is refused', () => {
    const s = store()
    beginOAuth(oa, back, s, 1000, 'once')
    expect(takeOAuthReturn('?code=C&state=once', s, 1001).kind).toBe('code')
    expect(takeOAuthReturn('?code=C&state=once', s, 1002)).toEqual({ kind: 'bad-state' })
  })

  it('refuses another state, a missing state, and a return nobody started', () => {
    const s = store()
    beginOAuth(oa, back, s, 1000, 'mine')
    expect(takeOAuthReturn('?code=C&state=theirs', s, 1001)).toEqual({ kind: 'bad-state' })
    beginOAuth(oa, back, s, 1000, 'mine')
    expect(takeOAuthReturn('?code=C', s, 1001)).toEqual({ kind: 'bad-state' })
    expect(takeOAuthReturn('?code=C&state=mine', store(), 1001)).toEqual({ kind: 'bad-state' })
  })

  it('refuses a stale state (older than ten minutes) and a kept value that is not ours', () => {
    const s = store()
    beginOAuth(oa, back, s, 1000, 'old')
    expect(takeOAuthReturn('?code=C&state=old', s, 1000 + STATE_TTL_MS + 1)).toEqual({ kind: 'bad-state' })
    s.setItem('oauth', 'not json')
    expect(takeOAuthReturn('?code=C&state=old', s, 1000)).toEqual({ kind: 'bad-state' })
  })

  it('a return without a code is the customer declining', () => {
    const s = store()
    beginOAuth(oa, back, s, 1000, 'st')
    expect(takeOAuthReturn('?state=st', s, 1001)).toEqual({ kind: 'denied' })
  })

  it('an ordinary visit is no return and keeps a started state', () => {
    const s = store()
    beginOAuth(oa, back, s, 1000, 'st')
    expect(takeOAuthReturn('?tenant=demo', s, 1001)).toEqual({ kind: 'none' })
    expect(takeOAuthReturn('?code=C&state=st', s, 1002).kind).toBe('code')
  })

  it('takes code and state out of the address once used', () => {
    expect(withoutOAuthParams('https://h/m/login?tenant=demo&code=C&state=S')).toBe('/m/login?tenant=demo')
    expect(withoutOAuthParams('https://h/m/login?code=C&state=S')).toBe('/m/login')
  })
})

describe('company code', () => {
  it('comes from ?tenant= and is kept; another company in a link says so', () => {
    const s = store()
    expect(resolveTenant('', s)).toEqual({ tenant: null, changed: false })
    expect(resolveTenant('?tenant=Demo', s)).toEqual({ tenant: 'demo', changed: false })
    expect(resolveTenant('', s)).toEqual({ tenant: 'demo', changed: false })
    expect(resolveTenant('?t=parkco', s)).toEqual({ tenant: 'parkco', changed: true })
    expect(resolveTenant('?tenant=..%2Fx', s)).toEqual({ tenant: 'parkco', changed: false })
    expect(keepTenant(s, 'bad slug!')).toBe(false)
    expect(keepTenant(s, ' Other ')).toBe(true)
    expect(resolveTenant('', s).tenant).toBe('other')
  })
})
