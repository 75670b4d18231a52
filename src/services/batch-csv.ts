/**
 * A CSV upload of POST /v1/batches turned into create bodies: one row per target, columns named after the create
 * fields. Empty cells are left out (the batch defaults apply). Without a `type` column the target type is read
 * from the value: a scheme makes it a URL, `@` an email, a leading `+` a phone, a dotted quad an IPv4 address,
 * anything else a domain.
 */
import { parseCsv } from '../domain/csv.js'
import { GatewayError } from '../domain/problems.js'
import type { TargetType } from '../schemas/common.js'

/** column → where it goes in the create body */
const COLUMNS: Record<string, (body: Record<string, unknown>, value: string) => void> = {
  target: (b, v) => { b.target = { ...(b.target as object), value: v } },
  type: (b, v) => { b.target = { ...(b.target as object), type: v } },
  provider: (b, v) => { b.provider = v },
  action: (b, v) => { b.action = v },
  comment: (b, v) => { b.comment = v },
  reportedBy: (b, v) => { b.reportedBy = v },
  clientId: (b, v) => { b.clientId = v },
  brandId: (b, v) => { b.brand = { ...(b.brand as object), id: /^\d{1,15}$/.test(v) ? Number(v) : v } },
  brandName: (b, v) => { b.brand = { ...(b.brand as object), name: v } },
  socialPlatform: (b, v) => { b.social = { ...(b.social as object), platform: v } },
  socialThreatType: (b, v) => { b.social = { ...(b.social as object), threatType: v } },
  allowDuplicate: (b, v) => { b.allowDuplicate = v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : v }
}
export const CSV_COLUMNS = Object.keys(COLUMNS)

export function inferTargetType (value: string): TargetType {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return 'url'
  if (value.includes('@')) return 'email'
  if (value.startsWith('+')) return 'phone'
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) return 'ipv4'
  return 'domain'
}

export interface CsvItems { items: Array<Record<string, unknown>>, rows: number[] }

export function csvItems (text: string): CsvItems {
  const parsed = parseCsv(text)
  if (!Array.isArray(parsed)) {
    throw new GatewayError('GW_ERR_VALIDATION', `The CSV file is malformed at line ${parsed.line}: ${parsed.error}`,
      { errors: [{ path: `/file/rows/${parsed.line}`, message: parsed.error }] })
  }
  const [header, ...records] = parsed
  const names = header?.fields.map(f => f.trim()) ?? []
  if (!names.includes('target')) {
    throw new GatewayError('GW_ERR_VALIDATION', `The CSV file needs a header line with a "target" column (columns: ${CSV_COLUMNS.join(', ')})`,
      { errors: [{ path: '/file/header', message: 'has no target column' }] })
  }
  const unknown = names.filter(n => COLUMNS[n] === undefined)
  if (unknown.length > 0) {
    throw new GatewayError('GW_ERR_VALIDATION', `Unknown CSV column(s) ${unknown.map(n => `"${n}"`).join(', ')}; known: ${CSV_COLUMNS.join(', ')}`,
      { errors: unknown.map(n => ({ path: `/file/header/${n}`, message: 'is not a known column' })) })
  }
  const items: Array<Record<string, unknown>> = []
  const rows: number[] = []
  for (const rec of records) {
    const body: Record<string, unknown> = {}
    names.forEach((name, i) => {
      const cell = rec.fields[i]?.trim() ?? ''
      if (cell !== '') COLUMNS[name]!(body, cell)
    })
    const target = body.target as { type?: string, value?: string } | undefined
    if (target?.value !== undefined && target.type === undefined) target.type = inferTargetType(target.value)
    items.push(body)
    rows.push(rec.line)
  }
  if (items.length === 0) {
    throw new GatewayError('GW_ERR_VALIDATION', 'The CSV file has no rows below its header', { errors: [{ path: '/file', message: 'has no rows' }] })
  }
  return { items, rows }
}
