// Export jobs' progress as the dialog shows it (pure, tested in tests/exportJobs.test.ts).

export interface JobProgressLike {
  state: string
  rows: number
  total: number
}

/**
 * The whole percentage written: 0–100, floored so a running job never shows 100 before the
 * server says DONE; a DONE job is 100 whatever the counts (a report counted before it was
 * built may end with fewer lines). `null` while the total is unknown (0 and still running).
 */
export function jobPercent(job: JobProgressLike | null | undefined): number | null {
  if (!job) return null
  if (job.state === 'DONE') return 100
  if (!(job.total > 0)) return job.state === 'RUNNING' ? null : 0
  const p = Math.floor((Math.max(0, job.rows) * 100) / job.total)
  return Math.min(job.state === 'RUNNING' ? 99 : 100, Math.max(0, p))
}

/** `12,345` in the portal's language (grouped digits). */
export function formatCount(n: number, locale: string): string {
  return new Intl.NumberFormat(locale.startsWith('en') ? 'en-US' : 'zh-CN').format(n)
}

/** How often the status is asked for while a job runs, in ms. */
export const JOB_POLL_MS = 700
/** Failed status calls in a row before the dialog gives up waiting. */
export const JOB_POLL_TRIES = 5
