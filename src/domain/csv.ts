/**
 * RFC 4180 CSV: comma-separated fields, double-quoted fields may hold commas, line breaks and doubled quotes,
 * CRLF or LF line ends, an optional UTF-8 byte-order mark. Each record carries the file line it starts on, so
 * errors can name the line a spreadsheet shows.
 */
export interface CsvRecord { line: number, fields: string[] }

export function parseCsv (text: string): CsvRecord[] | { error: string, line: number } {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const records: CsvRecord[] = []
  let fields: string[] = []
  let field = ''
  let line = 1
  let start = 1
  let i = 0
  let quoted = false
  let afterQuote = false
  const endRecord = (): void => {
    fields.push(field)
    // a blank line is no record
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields })
    fields = []
    field = ''
    afterQuote = false
  }
  while (i < src.length) {
    const c = src[i] as string
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') { field += '"'; i += 2; continue }
        quoted = false
        afterQuote = true
      } else {
        if (c === '\n') line++
        field += c
      }
      i++
      continue
    }
    if (c === '"' && field === '' && !afterQuote) { quoted = true; i++; continue }
    if (c === ',') { fields.push(field); field = ''; afterQuote = false; i++; continue }
    if (c === '\r' && src[i + 1] === '\n') i++
    if (c === '\r' || c === '\n') {
      endRecord()
      line++
      start = line
      i++
      continue
    }
    if (afterQuote) return { error: 'text after a closing quote', line }
    field += c
    i++
  }
  if (quoted) return { error: 'a quoted field is not closed', line: start }
  if (field !== '' || fields.length > 0) endRecord()
  return records
}
