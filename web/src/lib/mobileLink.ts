// The customers' mobile pages (/m/) are one build for every tenant: the company code in the
// query tells them whose pages they are. The link and what a printed QR sheet shows.

/** The mobile pages' address for a company code, on the portal's own origin. */
export function mobilePagesUrl(origin: string, companyCode: string): string {
  return `${origin.replace(/\/+$/, '')}/m/?tenant=${encodeURIComponent(companyCode.trim())}`
}

/** A company code as tenants are created with: 2–40 of a-z, 0-9 and `-` (the server's rule). */
export function looksLikeCompanyCode(code: string): boolean {
  return /^[a-z0-9-]{2,40}$/.test(code.trim())
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/**
 * A page holding only the QR code, the company's name, a line of text and the link, for a
 * print frame (A5 portrait; the image's data URL is made by the caller).
 */
export function qrSheetHtml(o: { lang: string; title: string; company: string; caption: string; link: string; qrDataUrl: string }): string {
  return `<!doctype html><html lang="${escapeHtml(o.lang)}"><head><meta charset="utf-8"><title>${escapeHtml(o.title)}</title><style>
@page { size: A5 portrait; margin: 12mm; }
body { font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; text-align: center; margin: 0; color: #111; }
h1 { font-size: 20pt; margin: 8mm 0 4mm; }
p { font-size: 12pt; margin: 0 0 6mm; }
img { width: 90mm; height: 90mm; image-rendering: pixelated; }
.link { font-family: ui-monospace, monospace; font-size: 9pt; word-break: break-all; margin-top: 4mm; color: #444; }
</style></head><body><h1>${escapeHtml(o.company)}</h1><p>${escapeHtml(o.caption)}</p><img alt="" src="${escapeHtml(o.qrDataUrl)}"><div class="link">${escapeHtml(o.link)}</div></body></html>`
}
