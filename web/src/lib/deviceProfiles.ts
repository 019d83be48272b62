// Device profiles (设备档案): readable names for the DL/T 645 data identifiers a read asks for,
// the read list as typed (split as the server splits it), a Modbus register map's or a vendor
// JSON map's items as typed, the create input per scheme, and the items a meter refused as a
// READ command's reason names them.
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
const BUILTIN_NAMES: Record<string, string> = {
  'builtin-vl3des-1': 'profiles.builtinName.vl3des',
  'builtin-dlt645-2007': 'profiles.builtinName.dlt645',
  'builtin-acrel-ddsy1352': 'profiles.builtinName.ddsy1352',
}
export const builtinNameKey = (id: string): string | null => BUILTIN_NAMES[id] ?? null

/** A profile's read list as the textarea shows it (a template's). */
export const readsText = (reads: readonly string[]) => reads.join(' ')

/** The schemes whose profile is a map (JSON) rather than a read list and a password. */
export const MAP_SCHEMES = ['MODBUS', 'VENDOR_JSON'] as const satisfies readonly CommandSchemeKind[]
export const isMapScheme = (s: CommandSchemeKind) => (MAP_SCHEMES as readonly string[]).includes(s)

/** The field a map scheme's JSON goes in (and the server names in its refusals). */
export const mapField = (s: CommandSchemeKind): 'registerMap' | 'jsonMap' | null =>
  s === 'MODBUS' ? 'registerMap' : s === 'VENDOR_JSON' ? 'jsonMap' : null

/** A vendor JSON map to start from (docs/DEVICES.md, "Vendor JSON devices"): the device's own
 * clock, energy, a voltage under a nested object, power sent in watts, the switch, and the
 * device's own command messages. */
export const VENDOR_JSON_EXAMPLE = `{
  "time": {"field": "time", "format": "%Y-%m-%d %H:%M:%S"},
  "values": [
    {"field": "EPI", "di": "00010000"},
    {"field": "data.Ua", "di": "02010100"},
    {"field": "data.Ia", "di": "02020100"},
    {"field": "P", "di": "02030000", "shift": 3},
    {"field": "PF", "di": "02060000"},
    {"field": "switch", "di": "04000503", "open": "0"}
  ],
  "trip": "{\\"cmd\\": \\"switch\\", \\"value\\": 0}",
  "close": "{\\"cmd\\": \\"switch\\", \\"value\\": 1}",
  "read": "{\\"cmd\\": \\"report\\"}"
}`

/** The items a map as typed reads (a register map's `reads[].di`, a JSON map's `values[].di`),
 * upper case, each once; null when the text is no JSON object with such a list. Not a check:
 * the server says what it refuses. */
export function mapItems(scheme: CommandSchemeKind, text: string): string[] | null {
  const key = scheme === 'MODBUS' ? 'reads' : scheme === 'VENDOR_JSON' ? 'values' : null
  if (!key || !text.trim()) return null
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null
  const list = (v as Record<string, unknown>)[key]
  if (!Array.isArray(list)) return null
  const out: string[] = []
  for (const e of list) {
    const di = e && typeof e === 'object' ? (e as Record<string, unknown>).di : undefined
    if (typeof di !== 'string') continue
    const d = di.trim().replace(/^0x/i, '').toUpperCase()
    if (d && !out.includes(d)) out.push(d)
  }
  return out
}

export interface ProfileForm {
  name: string
  reads: string
  scheme: CommandSchemeKind
  passwordLevel: number | null
  password: string
  operatorCode: string
  registerMap: string
  jsonMap: string
}

/** What the create form sends: the plain scheme's level, password and operator code only
 * with that scheme (the sealed one has none); a map scheme its map only (the register map for
 * MODBUS, the JSON map for VENDOR_JSON) and no read list (the map's items are read). */
export function profileInput(f: ProfileForm): CreateDeviceProfileInput {
  const name = f.name.trim()
  if (f.scheme === 'MODBUS') return { name, scheme: f.scheme, registerMap: f.registerMap.trim() }
  if (f.scheme === 'VENDOR_JSON') return { name, scheme: f.scheme, jsonMap: f.jsonMap.trim() }
  const input: CreateDeviceProfileInput = { name, reads: normalizeReads(f.reads), scheme: f.scheme }
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

export const schemeTag = (s: CommandSchemeKind) => (s === 'VL3DES_1' ? 'success' : s === 'DLT645_PLAIN' ? 'warning' : s === 'MODBUS' ? 'primary' : 'info')
