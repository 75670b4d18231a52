/** Deterministic data for simulator seeds: the same seed gives the same data set on every machine. */
export class Rng {
  #state: number
  constructor (seed: number) {
    this.#state = seed >>> 0
  }

  /** mulberry32 */
  next (): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int (min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T> (items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }

  bool (p = 0.5): boolean {
    return this.next() < p
  }

  id (length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)]
    return out
  }
}

const WORDS = ['secure', 'login', 'verify', 'account', 'wallet', 'support', 'update', 'billing', 'help', 'signin', 'pay', 'auth']
const TLDS = ['com', 'net', 'io', 'cc', 'xyz', 'top', 'online', 'site', 'info']
const BRANDS = ['acme', 'examplebank', 'globex', 'initech', 'umbrella']

export function fakeDomain (rng: Rng): string {
  return `${rng.pick(WORDS)}-${rng.pick(BRANDS)}${rng.int(1, 999)}.${rng.pick(TLDS)}`
}

export function fakeUrl (rng: Rng, domain = fakeDomain(rng)): string {
  return `https://${domain}/${rng.pick(WORDS)}/${rng.pick(WORDS)}`
}

export function fakeEmail (rng: Rng): string {
  return `${rng.pick(WORDS)}.${rng.pick(BRANDS)}${rng.int(1, 99)}@${fakeDomain(rng)}`
}

export function fakePhone (rng: Rng): string {
  return `+1${rng.int(200, 989)}${rng.int(200, 999)}${String(rng.int(0, 9999)).padStart(4, '0')}`
}

export function fakeIpv4 (rng: Rng): string {
  return `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`
}

export const SEED_BRANDS = BRANDS

/**
 * `count` creation times spread over the 120 days before `end`, newest first, with runs of equal timestamps
 * (the gateway's merge must break ties by id).
 */
export function spreadDates (rng: Rng, count: number, end: number, spanDays?: number): number[] {
  const out: number[] = []
  // with a span, the steps average span / count (a fifth of them are 0), so the dates fill about that many days
  const maxStep = spanDays === undefined ? 4 * 86400 : Math.max(120, Math.round(2 * spanDays * 86400 / (0.8 * count)))
  let t = end - rng.int(1, 3600) * 1000
  for (let i = 0; i < count; i++) {
    out.push(t)
    // about one in five stays on the same millisecond as the previous one
    if (!rng.bool(0.2)) t -= rng.int(60, maxStep) * 1000 / 2
  }
  return out
}
