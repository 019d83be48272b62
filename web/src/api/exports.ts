// Report exports (`GET /exports/{name}.xlsx|.csv`) as plain downloads: the portal asks the
// server for a five-minute link bound to that one export (`POST /exports/link` with the
// session's bearer), then clicks an `<a href download>` on it. The browser downloads the file
// itself (no blob in memory); the link works only for that path and query.
import { accessToken, refresh } from './auth'

export class ExportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message)
  }
}

async function ask(path: string, token: string | null): Promise<Response> {
  return fetch('/exports/link', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ path }),
  })
}

/** A download link for `path` (`/exports/…?…`): `{ url, expiresAt }`. */
export async function exportLink(path: string): Promise<{ url: string; expiresAt: string }> {
  let res: Response
  try {
    res = await ask(path, await accessToken())
    if (res.status === 401) {
      // The access token expired in the meantime: one refresh, one retry.
      const t = await refresh().catch(() => null)
      if (t) res = await ask(path, t.accessToken)
    }
  } catch {
    throw new ExportError('network error', 'NETWORK', 0)
  }
  const body = (await res.json().catch(() => ({}))) as { url?: string; expiresAt?: string; error?: string; message?: string }
  if (!res.ok || !body.url) throw new ExportError(body.message || `HTTP ${res.status}`, body.error || `HTTP_${res.status}`, res.status)
  return { url: body.url, expiresAt: body.expiresAt ?? '' }
}

/** Starts the browser's download of `url` (same origin: the server names the file). */
export function download(url: string) {
  const a = document.createElement('a')
  a.href = url
  a.download = ''
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/**
 * Opens `url` (a download link) and stops at the answer's status: a refusal (`400` with the
 * server's message, e.g. too many rows for a worksheet) is thrown as an ExportError; a `200`
 * is dropped at once (the browser then downloads it itself). For exports whose checks only the
 * export makes (`POST /exports/link` does not run them, NOTES-API 54).
 */
export async function checkDownload(url: string): Promise<void> {
  const ctl = new AbortController()
  let res: Response
  try {
    res = await fetch(url, { signal: ctl.signal })
  } catch {
    throw new ExportError('network error', 'NETWORK', 0)
  }
  if (res.ok) {
    ctl.abort()
    return
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string }
  throw new ExportError(body.message || `HTTP ${res.status}`, body.error || `HTTP_${res.status}`, res.status)
}

// Exports as background jobs (`POST /exports/jobs`, docs/REPORTS.md "Large exports as jobs"):
// the server checks the export at once (a refusal is the same 400/401/403/404 as the
// download's; 429 when two jobs already run for the company), then writes the file while
// `GET /exports/jobs/{id}` reports `rows` of `total`; once DONE each answer carries a fresh
// five-minute link to the file.

export type ExportJobState = 'RUNNING' | 'DONE' | 'FAILED'

export interface ExportJob {
  id: string
  state: ExportJobState
  rows: number
  total: number
  file: string
  error?: string | null
  url?: string | null
  expiresAt?: string | null
}

/** A bearer call with one refresh and retry on 401 (the access token expired meanwhile). */
async function withBearer(call: (token: string | null) => Promise<Response>): Promise<Response> {
  try {
    let res = await call(await accessToken())
    if (res.status === 401) {
      const t = await refresh().catch(() => null)
      if (t) res = await call(t.accessToken)
    }
    return res
  } catch {
    throw new ExportError('network error', 'NETWORK', 0)
  }
}

async function jobAnswer(res: Response): Promise<ExportJob> {
  const body = (await res.json().catch(() => ({}))) as Partial<ExportJob> & { error?: string; message?: string }
  if (!res.ok || !body.id) {
    throw new ExportError(body.message || `HTTP ${res.status}`, body.error || `HTTP_${res.status}`, res.status)
  }
  return {
    id: body.id,
    state: (body.state ?? 'RUNNING') as ExportJobState,
    rows: Number(body.rows ?? 0),
    total: Number(body.total ?? 0),
    file: body.file ?? '',
    error: body.error ?? null,
    url: body.url ?? null,
    expiresAt: body.expiresAt ?? null,
  }
}

/** Starts `path` (`/exports/…?…`) as a job: its first status, or the refusal as an ExportError. */
export async function startExportJob(path: string): Promise<ExportJob> {
  const res = await withBearer((token) =>
    fetch('/exports/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ path }),
    }),
  )
  return jobAnswer(res)
}

/** The job's status now (with a fresh download link once DONE). */
export async function exportJobStatus(id: string): Promise<ExportJob> {
  const res = await withBearer((token) => fetch(`/exports/jobs/${encodeURIComponent(id)}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }))
  return jobAnswer(res)
}
