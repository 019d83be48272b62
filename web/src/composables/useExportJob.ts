// One export run as a background job (`POST /exports/jobs`): started, its status asked for
// every JOB_POLL_MS while it runs, the file downloaded through the job's link once DONE. The
// user may stop waiting (polling stops; the server may still finish the file). Shown by
// components/ExportJobDialog.vue.
import { computed, getCurrentScope, onScopeDispose, ref, shallowRef } from 'vue'
import { download, exportJobStatus, startExportJob, type ExportJob } from '@/api/exports'
import { JOB_POLL_MS, JOB_POLL_TRIES, jobPercent } from '@/lib/exportJobs'

/** idle → starting → RUNNING → DONE | FAILED; `refused` when the start itself was refused. */
export type ExportJobPhase = 'idle' | 'starting' | 'RUNNING' | 'DONE' | 'FAILED' | 'refused'

export interface ExportJobProblem {
  code: string
  status: number
  message: string
}

export function useExportJob() {
  const phase = ref<ExportJobPhase>('idle')
  const job = shallowRef<ExportJob | null>(null)
  const problem = shallowRef<ExportJobProblem | null>(null)
  /** The export's path, for the dialog's title before the server names the file. */
  const path = ref('')
  const open = ref(false)
  const percent = computed(() => jobPercent(job.value))
  const running = computed(() => phase.value === 'starting' || phase.value === 'RUNNING')

  let timer: ReturnType<typeof setTimeout> | undefined
  // Each start (and each cancel) gets a new number: answers of an older run are dropped.
  let run = 0
  let failures = 0

  function stop() {
    clearTimeout(timer)
    timer = undefined
  }

  function fail(e: unknown, next: ExportJobPhase) {
    const err = e as { code?: string; status?: number; message?: string }
    problem.value = { code: err.code ?? '', status: err.status ?? 0, message: err.message ?? String(e) }
    phase.value = next
  }

  function settle(j: ExportJob) {
    job.value = j
    if (j.state === 'DONE') {
      phase.value = 'DONE'
      if (j.url) download(j.url)
    } else if (j.state === 'FAILED') {
      problem.value = { code: 'EXPORT_FAILED', status: 0, message: j.error || '' }
      phase.value = 'FAILED'
    } else {
      phase.value = 'RUNNING'
    }
  }

  function schedule(mine: number) {
    timer = setTimeout(() => void poll(mine), JOB_POLL_MS)
  }

  async function poll(mine: number) {
    const id = job.value?.id
    if (!id || mine !== run) return
    try {
      const j = await exportJobStatus(id)
      if (mine !== run) return
      failures = 0
      settle(j)
    } catch (e) {
      if (mine !== run) return
      const status = (e as { status?: number }).status ?? 0
      // A network hiccup is retried; an answer (404: the job is gone, 401: the session ended) is not.
      if (status === 0 && ++failures < JOB_POLL_TRIES) return schedule(mine)
      return fail(e, 'FAILED')
    }
    if (phase.value === 'RUNNING') schedule(mine)
  }

  /** Starts `path` (`/exports/…?…`) and opens the dialog. */
  async function start(exportPath: string) {
    stop()
    const mine = ++run
    failures = 0
    path.value = exportPath
    job.value = null
    problem.value = null
    phase.value = 'starting'
    open.value = true
    try {
      const j = await startExportJob(exportPath)
      if (mine !== run) return
      settle(j)
      if ((phase.value as ExportJobPhase) === 'RUNNING') schedule(mine)
    } catch (e) {
      if (mine === run) fail(e, 'refused')
    }
  }

  /** Stops waiting: no more polling, the dialog closes (the job may still finish on the server). */
  function cancel() {
    run++
    stop()
    open.value = false
    phase.value = 'idle'
  }

  /** Closes the dialog of a finished or refused job. */
  function close() {
    if (running.value) return cancel()
    open.value = false
  }

  /** Downloads the finished file again (a fresh link: the old one lives five minutes). */
  async function again() {
    const id = job.value?.id
    if (!id) return
    try {
      const j = await exportJobStatus(id)
      job.value = j
      if (j.url) download(j.url)
    } catch (e) {
      fail(e, 'FAILED')
    }
  }

  if (getCurrentScope()) onScopeDispose(() => {
    run++
    stop()
  })

  return { phase, job, problem, path, open, percent, running, start, cancel, close, again }
}

export type ExportJobHandle = ReturnType<typeof useExportJob>
