// Device profiles (设备档案): readable names for the DL/T 645 data identifiers a read asks for,
// the read list as typed (split as the server splits it), the create input per scheme, and the
// items a meter refused as a READ command's reason names them.
import type { CommandSchemeKind, CreateDeviceProfileInput } from '@/graphql/generated'

/** Identifiers with a name in the locales (`profiles.di.d<HEX>`); any other shows as its hex. */
export const NAMED_DIS = [
  '0001FF00', '00010000', '00010100', '00010200', '00010300', '00010400',
  '04000101', '04000102',
  '0201FF00', '02010100', '02010200', '02010300',
  '0202FF00', '02020100', '02020200', '02020300',
  '0203FF00', '02030000', '02030100', '02030200', '02030300',
  '0206FF00', '02060000',
  '02800002',
  '040005FF', '04000501', '04000502', '04000503', '04000504', '04000505', '04000506', '04000507',
  '00900100', '00900200',
] as const

const NAMED = new Set<string>(NAMED_DIS)

/** The i18n key of an identifier's name, or null when it has none (shown as its hex). */
export function diKey(di: string): string | null {
  const d = di.trim().toUpperCase()
  return NAMED.has(d) ? `profiles.di.d${d}` : null
}

/** The identifiers typed in the read list, as the server splits them (commas, spaces, new
 * lines, semicolons; a `0x` prefix allowed), upper case, each once. Not a check: the server
 * says what it refuses. */
export function splitReads(text: string): string[] {
  const out: string[] = []
  for (const part of normalizeReads(text).split(/[,\s;]+/)) {
    if (!part) continue
    const d = part.replace(/^0x/i, '').toUpperCase()
    if (!out.includes(d)) out.push(d)
  }
  return out
}

/** Full-width separators typed with a Chinese input method (，；、) as the ASCII ones the server
 * splits on. */
export const normalizeReads = (text: string) => text.replace(/[，、]/g, ',').replace(/；/g, ';').replace(/\u3000/g, ' ')

/** The built-in profiles' names in the portal's languages (the API names them in English). */
const BUILTIN_NAMES: Record<string, string> = { 'builtin-vl3des-1': 'profiles.builtinName.vl3des', 'builtin-dlt645-2007': 'profiles.builtinName.dlt645' }
export const builtinNameKey = (id: string): string | null => BUILTIN_NAMES[id] ?? null

/** A profile's read list as the textarea shows it (a template's). */
export const readsText = (reads: readonly string[]) => reads.join(' ')

export interface ProfileForm {
  name: string
  reads: string
  scheme: CommandSchemeKind
  passwordLevel: number | null
  password: string
  operatorCode: string
}

/** What the create form sends: the plain scheme's level, password and operator code only
 * with that scheme (the sealed one has none). */
export function profileInput(f: ProfileForm): CreateDeviceProfileInput {
  const input: CreateDeviceProfileInput = { name: f.name.trim(), reads: normalizeReads(f.reads), scheme: f.scheme }
  if (f.scheme === 'DLT645_PLAIN') {
    input.passwordLevel = f.passwordLevel ?? null
    input.password = f.password === '' ? null : f.password
    input.operatorCode = f.operatorCode.trim() === '' ? null : f.operatorCode.trim()
  }
  return input
}

export interface RefusedItem {
  di: string
  why: string
}

/** A command's reason split at "— refused by the meter:": what was asked, then each refused
 * read item (`0001FF00: no_requested_data; …`); a relay command's error bits have no item. */
export function refusedItems(reason: string | null | undefined): { head: string; items: RefusedItem[]; other: string } | null {
  if (!reason) return null
  const at = reason.indexOf('refused by the meter:')
  if (at < 0) return null
  const head = reason.slice(0, at).replace(/\s*—\s*$/, '').trim()
  const tail = reason.slice(at + 'refused by the meter:'.length).trim()
  const items: RefusedItem[] = []
  const other: string[] = []
  for (const part of tail.split(/;\s*/)) {
    const m = /^([0-9A-Fa-f]{8}):\s*(.+)$/.exec(part.trim())
    if (m) items.push({ di: m[1]!.toUpperCase(), why: m[2]!.trim() })
    else if (part.trim()) other.push(part.trim())
  }
  return { head, items, other: other.join('; ') }
}

/** The identifiers a follow-up read is for ("the registers of what the meter lacks (…)"). */
export function lacksFollowUp(reason: string | null | undefined): string[] | null {
  const m = /^the registers of what the meter lacks \(([^)]*)\)/.exec(reason ?? '')
  return m ? m[1]!.split(/,\s*/).filter(Boolean) : null
}

export const schemeTag = (s: CommandSchemeKind) => (s === 'VL3DES_1' ? 'success' : 'warning')
