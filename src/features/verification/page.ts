/**
 * What a probe keeps of a page instead of the page: its sanitised title, its visible text (for the signatures, in
 * memory only) and a simhash of that text over word shingles, so a cosmetic change (a date, a token, one word) still
 * reads as the same page while a different page does not.
 */
import { createHash } from 'node:crypto'

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

function decode (s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16) % 0x110000)
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10) % 0x110000)
    return ENTITIES[e.toLowerCase()] ?? m
  })
}

/** The page's <title>, entities decoded, control characters and markup removed, at most 200 characters. */
export function pageTitle (html: string): string | null {
  const m = /<title[^>]*>([\s\S]{0,2000}?)<\/title>/i.exec(html)
  if (m?.[1] === undefined) return null
  // eslint-disable-next-line no-control-regex
  const t = decode(m[1].replace(/<[^>]*>/g, '')).replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/g, ' ').replace(/\s+/g, ' ').trim()
  return t === '' ? null : t.slice(0, 200)
}

/** The visible text of a page, lower-cased, scripts and styles dropped, whitespace collapsed. */
export function pageText (html: string): string {
  return decode(html
    .replace(/<(script|style|noscript)[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' '))
    .toLowerCase().replace(/\s+/g, ' ').trim()
}

const SHINGLE = 3

/**
 * 64-bit simhash of the text's 3-word shingles, 16 hex digits (the empty text: all zero). A word holding a digit (a
 * date, a counter, a session token) counts as one placeholder word, so those changes do not move the fingerprint.
 */
export function simhash (text: string): string {
  const words = text.split(/[^\p{L}\p{N}]+/u).filter(w => w !== '').map(w => /\d/.test(w) ? '#' : w)
  const weights = new Array<number>(64).fill(0)
  const count = Math.max(1, words.length - SHINGLE + 1)
  if (words.length === 0) return '0'.repeat(16)
  for (let i = 0; i < count; i++) {
    const h = createHash('sha256').update(words.slice(i, i + SHINGLE).join(' ')).digest()
    const hi = h.readUInt32BE(0)
    const lo = h.readUInt32BE(4)
    for (let b = 0; b < 32; b++) {
      weights[b] = (weights[b] ?? 0) + (((lo >>> b) & 1) === 1 ? 1 : -1)
      weights[b + 32] = (weights[b + 32] ?? 0) + (((hi >>> b) & 1) === 1 ? 1 : -1)
    }
  }
  let out = 0n
  for (let b = 0; b < 64; b++) if ((weights[b] ?? 0) > 0) out |= 1n << BigInt(b)
  return out.toString(16).padStart(16, '0')
}

/** Differing bits of two fingerprints (0 to 64). */
export function distance (a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`)
  let n = 0
  while (x > 0n) { n += Number(x & 1n); x >>= 1n }
  return n
}

/** Same page: at most 10 of 64 bits apart. */
export const SAME_PAGE_BITS = 10

export function samePage (a: string, b: string): boolean {
  return distance(a, b) <= SAME_PAGE_BITS
}
