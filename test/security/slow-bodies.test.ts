/**
 * Slow bodies are dropped: a request whose body has not arrived by REQUEST_TIMEOUT_MS gets a 408 problem and its
 * connection closed; a request refused before its body was read (401) closes the connection instead of waiting.
 * Bounds here are generous (the check runs every second); what is asserted is that the server ends it at all.
 */
import { describe, expect, it } from 'vitest'
import { rawRequest } from '../support/raw-http.js'
import { expectProblem, JSON_CT, KEY, securityGateway, vendorCalls } from './support.js'

const s = securityGateway({ env: { REQUEST_TIMEOUT_MS: '1000' } })

describe('slow bodies', () => {
  it('an authenticated body that stalls gets a 408 problem and a closed connection, and nothing reaches a vendor', async () => {
    const res = await rawRequest(s.port, {
      method: 'POST', path: '/v1/cases', headers: [KEY, JSON_CT, ['content-length', '5000']], body: '{"provider":"phish', timeoutMs: 20_000
    })
    expect(res.closedByServer).toBe(true)
    const body = expectProblem(res, 408)
    expect(body.detail).toMatch(/not received in time/)
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST')).toEqual([])
  })

  it('a refusal before the body was read (401) closes the connection at once', async () => {
    const res = await rawRequest(s.port, {
      method: 'POST', path: '/v1/cases', headers: [['authorization', 'Bearer wrong-key'], JSON_CT, ['content-length', '5000']], body: '{"a":', timeoutMs: 20_000
    })
    expect(res.closedByServer).toBe(true)
    expectProblem(res, 401)
    expect(res.headers.connection).toBe('close')
  })

  it('stalled headers are dropped too', async () => {
    const { connect } = await import('node:net')
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(s.port, '127.0.0.1', () => { socket.write('GET /v1/cases HTTP/1.1\r\nhost: x\r\nauthorization: Bear') })
      let data = ''
      socket.on('data', (c: Buffer) => { data += c.toString() })
      socket.on('close', () => { resolve(data) })
      setTimeout(() => { socket.destroy() }, 20_000)
    })
    expect(closed).toMatch(/^HTTP\/1\.1 408 /)
    expect(closed).toMatch(/application\/problem\+json/)
  })
})
