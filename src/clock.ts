/** The one time seam: simulators and caches read time through it so tests can move it. */
export interface Clock {
  now (): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #now: number
  constructor (start: number | string = '2026-11-01T00:00:00.000Z') {
    this.#now = typeof start === 'number' ? start : Date.parse(start)
  }

  now (): number { return this.#now }
  advance (ms: number): void { this.#now += ms }
  set (at: number | string): void { this.#now = typeof at === 'number' ? at : Date.parse(at) }
}

/** A clock that runs `speed` times faster than real time from the moment it is made (the sandbox's simulators). */
export class SpeedClock implements Clock {
  readonly #start = Date.now()
  constructor (private readonly speed: number) {}
  now (): number { return this.#start + (Date.now() - this.#start) * this.speed }
}
