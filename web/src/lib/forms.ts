// Form state shared by the people, payees and settings screens: what was typed stays, the
// server's message goes under the field it names (`extensions.field`, without the `input.`
// prefix), or above the buttons when it names none of the form's fields.
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/i18n'
import { errorField, errorText } from './errors'

export interface FormState {
  open: boolean
  busy: boolean
  error: string
  field: string
}

export function fail(f: FormState, e: unknown) {
  f.error = errorText(e)
  f.field = (errorField(e) ?? '').replace(/^input\./, '')
}

export function clearError(f: FormState) {
  f.error = ''
  f.field = ''
}

/** The message for one field (a field named `wechatKeys[0].serial` counts for `wechatKeys`). */
export function fieldError(f: FormState, name: string): string {
  if (!f.error || !f.field) return ''
  return f.field === name || f.field.startsWith(`${name}[`) || f.field.startsWith(`${name}.`) ? f.error : ''
}

export function otherError(f: FormState, names: readonly string[]): string {
  if (!f.error) return ''
  return names.some((n) => fieldError(f, n)) ? '' : f.error
}

/** A destructive or irreversible action asks first. */
export async function confirmAction(message: string, title: string): Promise<boolean> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(message, title, { type: 'warning', confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel') })
    return true
  } catch {
    return false
  }
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}
