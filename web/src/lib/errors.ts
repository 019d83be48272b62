// Server errors shown as the server worded them (business rules live on the server), with the
// code's translated title; validation errors keep their field for the form.
import { ElMessage } from 'element-plus'
import { GraphQLRequestError } from '@/api/graphql'
import { i18n } from '@/i18n'

export function errorText(e: unknown): string {
  const t = i18n.global.t
  if (e instanceof GraphQLRequestError) {
    // A value the schema itself refuses (e.g. "abc" for a Decimal) comes without a code.
    const code = e.code === 'ERROR' && /failed to parse/i.test(e.message) ? 'VALIDATION' : e.code
    const key = `errors.${code}`
    const title = i18n.global.te(key) ? t(key) : code
    const first = e.errors[0]
    if (code === 'NETWORK') return t('errors.NETWORK')
    return first?.message ? `${title}: ${first.message}` : title
  }
  if (e instanceof Error) return e.message
  return String(e)
}

/** The field a validation error names (`extensions.field`), if any. */
export function errorField(e: unknown): string | undefined {
  return e instanceof GraphQLRequestError ? e.field : undefined
}

export function showError(e: unknown) {
  if (e instanceof Error && e.name === 'AbortError') return
  ElMessage({ type: 'error', message: errorText(e), duration: 6000, showClose: true, grouping: true })
}
