/**
 * A CSV upload of POST /v1/batches turned into create bodies while it streams in: one row per target, columns named
 * after the create fields. Empty cells are left out (the batch defaults apply). Without a `type` column the target
 * type is read from the value: a scheme makes it a URL, `@` an email, a leading `+` a phone, a dotted quad an IPv4
 * address, anything else a domain.
 *
 * Bounded while it reads: the row after the last one a batch may hold ends the upload with a 413 at once, so a file
 * of a million rows costs what 1,001 do. Bytes are UTF-8 (a byte-order mark is dropped) or UTF-16 announced by its
 * byte-order mark; any other byte is refused with its line and offset rather than silently replaced.
 */
import { isUtf8 } from 'node:buffer'
import { TextDecoder } from 'node:util'
import { CsvParser, CsvSyntaxError, SEPARATOR_NAMES, type CsvRecord } from '../../domain/csv.js'
import { GatewayError } from '../../domain/problems.js'
import type { TargetType } from '../../schemas/common.js'

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

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** Pushes the file's chunks as they arrive, then `end()`: the create bodies and the line of each. */
export class CsvItemsReader {
  readonly #maxItems: number
  readonly #parser = new CsvParser(rec => { this.#record(rec) })
  /** null until the first bytes say UTF-8 or UTF-16 */
  #utf16: TextDecoder | null = null
  #encoding: 'utf-8' | 'utf-16' | null = null
  /** bytes read before `#carry` */
  #offset = 0
  /** the start of a character the next chunk completes (UTF-8), or the first bytes while the encoding is open */
  #carry: Buffer = Buffer.alloc(0)
  #names: string[] | null = null
  readonly #items: Array<Record<string, unknown>> = []
  readonly #rows: number[] = []

  constructor (maxItems: number) { this.#maxItems = maxItems }

  push (chunk: Buffer): void { this.#text(this.#decode(chunk, false)) }

  end (): CsvItems {
    this.#text(this.#decode(Buffer.alloc(0), true))
    this.#syntax(() => { this.#parser.end() })
    if (this.#names === null) this.#noTarget([])
    if (this.#items.length === 0) {
      throw new GatewayError('GW_ERR_VALIDATION', 'The CSV file has no rows below its header', { errors: [{ path: '/file', message: 'has no rows' }] })
    }
    return { items: this.#items, rows: this.#rows }
  }

  #text (text: string): void {
    if (text !== '') this.#syntax(() => { this.#parser.push(text) })
  }

  #syntax (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      if (!(err instanceof CsvSyntaxError)) throw err
      throw new GatewayError('GW_ERR_VALIDATION', `The CSV file is malformed at line ${err.line}: ${err.message}`,
        { errors: [{ path: `/file/rows/${err.line}`, message: err.message }] })
    }
  }

  #decode (chunk: Buffer, final: boolean): string {
    let buf = this.#carry.length === 0 ? chunk : Buffer.concat([this.#carry, chunk])
    if (this.#encoding === null) {
      if (buf.length < 3 && !final) { this.#carry = buf; return '' }
      let bom = 0
      if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
        this.#utf16 = new TextDecoder(buf[0] === 0xff ? 'utf-16le' : 'utf-16be', { fatal: true })
        this.#encoding = 'utf-16'
        bom = 2
      } else {
        this.#encoding = 'utf-8'
        if (buf.subarray(0, 3).equals(UTF8_BOM)) bom = 3
      }
      this.#offset = bom
      buf = buf.subarray(bom)
    }
    if (this.#utf16 !== null) {
      this.#carry = Buffer.alloc(0)
      try {
        const text = this.#utf16.decode(buf, { stream: !final })
        this.#offset += buf.length
        return text
      } catch {
        throw this.#notText(`is not UTF-16 (an unpaired surrogate) within the ${buf.length} bytes from offset ${this.#offset}`)
      }
    }
    const end = final ? buf.length : wholeCharacters(buf)
    if (!isUtf8(buf.subarray(0, end))) {
      const at = firstInvalidUtf8(buf.subarray(0, end))
      // the text before the byte moves the parser to the byte's line
      this.#text(buf.toString('utf8', 0, at))
      throw this.#notText(`has the byte 0x${(buf[at] as number).toString(16).toUpperCase().padStart(2, '0')} at byte offset ${this.#offset + at}, which is not UTF-8`)
    }
    const text = buf.toString('utf8', 0, end)
    this.#carry = Buffer.from(buf.subarray(end))
    this.#offset += end
    return text
  }

  #notText (what: string): GatewayError {
    const line = this.#parser.line
    return new GatewayError('GW_ERR_VALIDATION',
      `The CSV file is not text this gateway reads: line ${line} ${what}. Save it as UTF-8 (or UTF-16 with a byte-order mark); nothing was sent`,
      { errors: [{ path: `/file/rows/${line}`, message: what }] })
  }

  #record (rec: CsvRecord): void {
    if (this.#names === null) {
      this.#header(rec.fields.map(f => f.trim()))
      return
    }
    if (this.#items.length === this.#maxItems) {
      throw new GatewayError('GW_ERR_PAYLOAD_TOO_LARGE',
        `A batch holds at most ${this.#maxItems} items (BATCH_MAX_ITEMS) and this CSV has more rows (line ${rec.line} is row ${this.#maxItems + 1}); split it`)
    }
    const body: Record<string, unknown> = {}
    this.#names.forEach((name, i) => {
      const cell = rec.fields[i]?.trim() ?? ''
      if (cell !== '') COLUMNS[name]!(body, cell)
    })
    const target = body.target as { type?: string, value?: string } | undefined
    if (target?.value !== undefined && target.type === undefined) target.type = inferTargetType(target.value)
    this.#items.push(body)
    this.#rows.push(rec.line)
  }

  #header (names: string[]): void {
    if (!names.includes('target')) this.#noTarget(names)
    const unknown = names.filter(n => COLUMNS[n] === undefined)
    if (unknown.length > 0) {
      throw new GatewayError('GW_ERR_VALIDATION', `Unknown CSV column(s) ${unknown.map(n => `"${n}"`).join(', ')}; known: ${CSV_COLUMNS.join(', ')}`,
        { errors: unknown.map(n => ({ path: `/file/header/${n}`, message: 'is not a known column' })) })
    }
    this.#names = names
  }

  #noTarget (names: string[]): never {
    const sep = this.#parser.separator ?? ','
    const hint = names.some(n => n.includes('\u0000'))
      ? ' (it holds NUL characters: UTF-16 without a byte-order mark? save it as UTF-8)'
      : ` (read as ${SEPARATOR_NAMES[sep] ?? sep}-separated: ${names.length === 0 ? 'no header' : names.slice(0, 5).map(n => `"${n.slice(0, 40)}"`).join(', ')})`
    throw new GatewayError('GW_ERR_VALIDATION',
      `The CSV file needs a header line with a "target" column${hint}; columns are separated by commas, semicolons or tabs and named: ${CSV_COLUMNS.join(', ')}`,
      { errors: [{ path: '/file/header', message: 'has no target column' }] })
  }
}

/** how many leading bytes of `buf` end on a whole UTF-8 character (the rest waits for the next chunk) */
function wholeCharacters (buf: Buffer): number {
  for (let k = 1; k <= Math.min(3, buf.length); k++) {
    const b = buf[buf.length - k] as number
    if ((b & 0xc0) === 0x80) continue // a continuation byte: look further back for its lead
    if (b < 0xc0) return buf.length
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2
    return k < need ? buf.length - k : buf.length
  }
  return buf.length
}

/** a lead byte's continuation bytes and the range the first of them must be in (RFC 3629: no overlong forms, no surrogates) */
function utf8Lead (b: number): [n: number, lo: number, hi: number] | null {
  if (b >= 0xc2 && b <= 0xdf) return [1, 0x80, 0xbf]
  if (b === 0xe0) return [2, 0xa0, 0xbf]
  if (b === 0xed) return [2, 0x80, 0x9f]
  if (b >= 0xe1 && b <= 0xef) return [2, 0x80, 0xbf]
  if (b === 0xf0) return [3, 0x90, 0xbf]
  if (b === 0xf4) return [3, 0x80, 0x8f]
  if (b >= 0xf1 && b <= 0xf3) return [3, 0x80, 0xbf]
  return null
}

/** the offset of the first byte that does not belong to well-formed UTF-8 */
export function firstInvalidUtf8 (buf: Buffer): number {
  let i = 0
  while (i < buf.length) {
    const b = buf[i] as number
    if (b < 0x80) { i++; continue }
    const lead = utf8Lead(b)
    if (lead === null) return i
    const [n, lo, hi] = lead
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k]
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i
    }
    i += n + 1
  }
  return buf.length
}
