/** The one time seam: simulators and caches read time through it so tests can move it. */
export interface Clock {
  /** wall time, epoch ms: every timestamp is read from here */
  now (): number
  /** how many times faster than real time simulated waits pass (the sandbox's SANDBOX_SPEED); absent: 1 */
  readonly speed?: number
}

/** A simulated wait of `ms` in wall-clock ms: speed shortens the waiting, it never moves a timestamp past now. */
export function paced (clock: Clock, ms: number): number {
  return ms / (clock.speed ?? 1)
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

/**
 * The sandbox simulators' clock at SANDBOX_SPEED: the wall clock's time, with waits `speed` times shorter (a case
 * steps through its lifecycle sooner; what it reports happened at real wall-clock times, never in the future).
 */
export class SpeedClock implements Clock {
  constructor (readonly speed: number, private readonly wall: Clock = systemClock) {}
  now (): number { return this.wall.now() }
}
