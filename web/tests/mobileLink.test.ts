import { describe, expect, it } from 'vitest'
import { looksLikeCompanyCode, mobilePagesUrl, qrSheetHtml } from '@/lib/mobileLink'

describe('mobile pages link', () => {
  it('is the origin, /m/ and the company code', () => {
    expect(mobilePagesUrl('https://ems.example.com', 'demo')).toBe('https://ems.example.com/m/?tenant=demo')
    expect(mobilePagesUrl('http://127.0.0.1:8097/', ' east-park ')).toBe('http://127.0.0.1:8097/m/?tenant=east-park')
  })
  it('encodes what is not a plain code', () => {
    expect(mobilePagesUrl('https://x.cn', 'a&b=c')).toBe('https://x.cn/m/?tenant=a%26b%3Dc')
  })
  it('knows a company code by the server\'s rule', () => {
    expect(looksLikeCompanyCode('demo')).toBe(true)
    expect(looksLikeCompanyCode('e2e-1a2b')).toBe(true)
    expect(looksLikeCompanyCode('d')).toBe(false)
    expect(looksLikeCompanyCode('Demo')).toBe(false)
    expect(looksLikeCompanyCode('a'.repeat(41))).toBe(false)
  })
  it('escapes the printed sheet', () => {
    const html = qrSheetHtml({ lang: 'zh-CN', title: 't', company: 'A<B>&"C"', caption: 'scan', link: 'https://x.cn/m/?tenant=a', qrDataUrl: 'data:image/png;base64,AAA' })
    expect(html).toContain('<h1>A&lt;B&gt;&amp;&quot;C&quot;</h1>')
    expect(html).toContain('src="data:image/png;base64,AAA"')
    expect(html).toContain('https://x.cn/m/?tenant=a')
  })
})
