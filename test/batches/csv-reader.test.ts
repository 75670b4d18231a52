/**
 * The CSV reader of batch uploads (features/batches/csv.ts) fed the way the form parser feeds it: in chunks of any size.
 */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/domain/problems.js'
import { CsvItemsReader } from '../../src/features/batches/csv.js'

function read (file: Buffer, chunkBytes: number, maxItems = 1000): ReturnType<CsvItemsReader['end']> {
  const reader = new CsvItemsReader(maxItems)
  for (let at = 0; at < file.length; at += chunkBytes) reader.push(file.subarray(at, at + chunkBytes))
  return reader.end()
}

describe('CsvItemsReader', () => {
  it('stops at row 1,001 of a 953,819-row file: the first 64 KB chunk ends it with a 413, the other 10 MB are never parsed', () => {
    const file = Buffer.from(`target\n${Array.from({ length: 953_819 }, (_v, i) => `a${i}.io`).join('\n')}\n`)
    const reader = new CsvItemsReader(1000)
    let pushed = 0
    let err: unknown
    try {
      for (let at = 0; at < file.length; at += 65_536) {
        pushed++
        reader.push(file.subarray(at, at + 65_536))
      }
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(GatewayError)
    expect(err).toMatchObject({ statusCode: 413 })
    expect(pushed).toBe(1)
  })

  it('reads the same items whatever the chunk size: characters, CRLF and doubled quotes split across chunks', () => {
    const csv = '\ufefftarget;comment;brandName\r\n' +
      'https://acme-login.example/a;"kit ""café"" ☕ 𝄞";Acme Bank\r\n' +
      '\r\n' +
      'acme-pay.example;"two\r\nlines";""\r\n' +
      '+14155550100;;Acme\r'
    const whole = read(Buffer.from(csv), 1 << 20)
    expect(whole).toEqual({
      items: [
        { target: { value: 'https://acme-login.example/a', type: 'url' }, comment: 'kit "café" ☕ 𝄞', brand: { name: 'Acme Bank' } },
        { target: { value: 'acme-pay.example', type: 'domain' }, comment: 'two\r\nlines' },
        { target: { value: '+14155550100', type: 'phone' }, brand: { name: 'Acme' } }
      ],
      rows: [2, 4, 6]
    })
    for (const size of [1, 2, 3, 5, 7]) expect(read(Buffer.from(csv), size)).toEqual(whole)
    for (const size of [1, 3, 64]) expect(read(Buffer.from(csv, 'utf16le').subarray(0), size)).toEqual(whole)
  })

  it('names the line and byte offset of a byte that is not UTF-8, whichever chunk it falls in', () => {
    const head = Buffer.from('target,comment\nhttps://acme-login.example/,"multi\nline"\nhttps://acme-pay.example/,caf')
    const file = Buffer.concat([head, Buffer.from([0xe9, 0x0a])])
    for (const size of [1, 4, 1024]) {
      expect(() => read(file, size)).toThrow(`line 4 has the byte 0xE9 at byte offset ${head.length}, which is not UTF-8`)
    }
    // an overlong form and a lone continuation byte are refused too
    expect(() => read(Buffer.from([...Buffer.from('target\n'), 0xc0, 0xaf, 0x0a]), 8)).toThrow('the byte 0xC0 at byte offset 7')
    expect(() => read(Buffer.from([...Buffer.from('target\nab'), 0x80]), 8)).toThrow('the byte 0x80 at byte offset 9')
  })
})
