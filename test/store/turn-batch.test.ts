/**
 * The turn batch: the commands queued in one turn of the event loop leave as one pipeline, each with its own answer
 * and its own error; a later turn's commands go in the next pipeline; scripts defined on the client go too.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it, vi } from 'vitest'
import { TurnBatch, turnBatch } from '../../src/store/turn-batch.js'

const redis = new Redis(inject('redisUrl'), { keyPrefix: `t-turn-batch-${randomUUID()}:` })
redis.defineCommand('tbIncrBy', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" })
afterAll(async () => { await redis.quit() })

describe('TurnBatch', () => {
  it('sends the commands of one turn in one pipeline, answering each, and failing only the command that failed', async () => {
    const batch = new TurnBatch(redis)
    const pipelines = vi.spyOn(redis, 'pipeline')
    try {
      const answers = Promise.allSettled([
        batch.send('set', 'a', 'A'),
        batch.send('sadd', 's', 'x', 'y'),
        batch.send('tbIncrBy', 'n', 5),
        batch.send('incr', 'a'), // not an integer: only this one fails
        batch.send('getBuffer', 'a'),
        batch.send('noSuchCommand', 'a')
      ])
      const [set, sadd, script, incr, buffer, unknown] = await answers
      expect(pipelines).toHaveBeenCalledTimes(1)
      expect(set).toEqual({ status: 'fulfilled', value: 'OK' })
      expect(sadd).toEqual({ status: 'fulfilled', value: 2 })
      expect(script).toEqual({ status: 'fulfilled', value: 5 })
      expect(incr.status).toBe('rejected')
      expect(((incr as PromiseRejectedResult).reason as Error).message).toMatch(/not an integer/)
      expect(buffer).toEqual({ status: 'fulfilled', value: Buffer.from('A') })
      expect(((unknown as PromiseRejectedResult).reason as Error).message).toMatch(/noSuchCommand/)

      // a command queued after the first pipeline left goes in the next one
      expect(await batch.send('tbIncrBy', 'n', 2)).toBe(7)
      expect(pipelines).toHaveBeenCalledTimes(2)
      expect(await redis.smembers('s')).toEqual(expect.arrayContaining(['x', 'y']))
    } finally {
      pipelines.mockRestore()
    }
  })

  it('one batch per client', () => {
    expect(turnBatch(redis)).toBe(turnBatch(redis))
  })

  it('a client that cannot send fails every command of the turn, and the batch goes on', async () => {
    // never connected, no offline queue: every command is refused at once
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null })
    down.on('error', () => {})
    const batch = new TurnBatch(down)
    const answers = await Promise.allSettled([batch.send('get', 'a'), batch.send('set', 'b', '1')])
    expect(answers.map(a => a.status)).toEqual(['rejected', 'rejected'])
    down.disconnect()
  })
})
