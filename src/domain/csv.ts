/**
 * RFC 4180 CSV, read as it arrives: fields separated by commas (or semicolons or tabs, whichever the header line
 * holds most of: what spreadsheets in many locales save), double-quoted fields may hold separators, line breaks and
 * doubled quotes, CRLF, LF or CR line ends. Each record carries the file line it starts on, so errors can name the
 * line a spreadsheet shows.
 */
export interface CsvRecord { line: number, fields: string[] }

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError'
  constructor (message: string, readonly line: number) { super(message) }
}

export const SEPARATOR_NAMES: Readonly<Record<string, string>> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' }

/** a header line longer than this is no header line */
const MAX_HEADER_CHARS = 65_536

/** the separator the header line holds most of (a comma when it holds none: one column) */
function separatorOf (header: string): string {
  let best = ','
  let most = 0
  for (const sep of Object.keys(SEPARATOR_NAMES)) {
    const n = header.split(sep).length - 1
    if (n > most) { best = sep; most = n }
  }
  return best
}

/** Text goes in with `push` (in pieces of any size), records come out through `onRecord`; malformed input throws CsvSyntaxError. */
export class CsvParser {
  #sep: string | null = null
  /** the text before the header line's end, while the separator is not known yet */
  #head = ''
  #fields: string[] = []
  #field = ''
  #line = 1
  #start = 1
  #quoted = false
  #afterQuote = false
  /** the last character was a CR: an LF right after it ends nothing more */
  #afterCr = false
  /** the last piece ended on a quote inside a quoted field (closing, or the first of a doubled one) */
  #quoteAtEnd = false

  constructor (private readonly onRecord: (record: CsvRecord) => void) {}

  /** the file line the next character lands on */
  get line (): number { return this.#line }
  get separator (): string | null { return this.#sep }

  push (text: string): void {
    if (this.#sep === null) {
      this.#head += text
      const end = this.#head.search(/[\r\n]/)
      if (end < 0) {
        if (this.#head.length > MAX_HEADER_CHARS) throw new CsvSyntaxError(`the header line is longer than ${MAX_HEADER_CHARS} characters`, 1)
        return
      }
      this.#sep = separatorOf(this.#head.slice(0, end))
      text = this.#head
      this.#head = ''
    }
    this.#parse(text)
  }

  end (): void {
    if (this.#sep === null) {
      this.#sep = separatorOf(this.#head)
      this.#parse(this.#head)
      this.#head = ''
    }
    if (this.#quoteAtEnd) { this.#quoteAtEnd = false; this.#quoted = false; this.#afterQuote = true }
    if (this.#quoted) throw new CsvSyntaxError('a quoted field is not closed', this.#start)
    if (this.#field !== '' || this.#fields.length > 0) this.#endRecord()
  }

  #endRecord (): void {
    this.#fields.push(this.#field)
    const fields = this.#fields
    this.#fields = []
    this.#field = ''
    this.#afterQuote = false
    // a blank line is no record
    if (!(fields.length === 1 && fields[0] === '')) this.onRecord({ line: this.#start, fields })
  }

  #parse (src: string): void {
    const sep = this.#sep
    let i = 0
    if (this.#quoteAtEnd && src.length > 0) {
      // the previous piece ended on a quote inside a quoted field: a second one here makes it a doubled quote
      this.#quoteAtEnd = false
      if (src[0] === '"') { this.#field += '"'; i = 1 } else { this.#quoted = false; this.#afterQuote = true }
    }
    for (; i < src.length; i++) {
      const c = src[i] as string
      const afterCr = this.#afterCr
      this.#afterCr = false
      if (this.#quoted) {
        if (c === '"') {
          if (i + 1 === src.length) { this.#quoteAtEnd = true; continue }
          if (src[i + 1] === '"') { this.#field += '"'; i++; continue }
          this.#quoted = false
          this.#afterQuote = true
        } else {
          if (c === '\r' || (c === '\n' && !afterCr)) this.#line++
          this.#afterCr = c === '\r'
          this.#field += c
        }
        continue
      }
      if (c === '"' && this.#field === '' && !this.#afterQuote) { this.#quoted = true; continue }
      if (c === sep) { this.#fields.push(this.#field); this.#field = ''; this.#afterQuote = false; continue }
      if (c === '\n' && afterCr) continue
      if (c === '\r' || c === '\n') {
        this.#endRecord()
        this.#line++
        this.#start = this.#line
        this.#afterCr = c === '\r'
        continue
      }
      if (this.#afterQuote) throw new CsvSyntaxError('text after a closing quote', this.#line)
      this.#field += c
    }
  }
}
