// Spreadsheet imports over REST (`/imports/*`, docs/REPORTS.md): the file's bytes as the body of
// `POST /imports/meters?dryRun=…` or `POST /imports/sites?dryRun=…` with the session's bearer,
// and the template downloaded with it too (the site template needs none; it does no harm). One
// refresh and one retry when the access token expired in the meantime.
import { accessToken, refresh } from './auth'
import {
  importContentType, importPath, readImportAnswer, templateName, templatePath, type ImportKind, type ImportOutcome,
} from '@/lib/imports'

async function withToken(send: (token: string | null) => Promise<Response>): Promise<Response> {
  let res = await send(await accessToken())
  if (res.status === 401) {
    const t = await refresh().catch(() => null)
    if (t) res = await send(t.accessToken)
  }
  return res
}

const auth = (token: string | null): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {})

/** Sends the file for a dry run (nothing written) or the import; the answer read into one shape. */
export async function importFile(kind: ImportKind, file: Blob & { name: string }, dryRun: boolean): Promise<ImportOutcome> {
  let res: Response
  try {
    const bytes = await file.arrayBuffer()
    res = await withToken((token) => fetch(importPath(dryRun, kind), { method: 'POST', headers: { 'Content-Type': importContentType(file.name), ...auth(token) }, body: bytes }))
  } catch {
    return { kind: 'refused', status: 0, code: 'NETWORK', message: 'network error' }
  }
  const body = await res.json().catch(() => null)
  return readImportAnswer(res.status, body)
}

/** Downloads the template in the portal's language (a small file: fetched, then saved). */
export async function downloadTemplate(locale: string, kind: ImportKind = 'meters'): Promise<void> {
  let res: Response
  try {
    res = await withToken((token) => fetch(templatePath(locale, kind), { headers: auth(token) }))
  } catch {
    throw Object.assign(new Error('network error'), { code: 'NETWORK' })
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string }
    throw Object.assign(new Error(body.message || `HTTP ${res.status}`), { code: body.error || `HTTP_${res.status}` })
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? templateName(kind)
  const url = URL.createObjectURL(await res.blob())
  try {
    const a = document.createElement('a')
    a.href = url
    a.download = name
    a.rel = 'noopener'
    a.style.display = 'none'
    document.body.appendChild(a)
    a.click()
    a.remove()
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  }
}
