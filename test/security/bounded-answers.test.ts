/**
 * Answers and memory are bounded by the request's meaning, not by what an attacker sends: a create with 50,000
 * unknown providerOptions keys gets a small problem (50 reasons and a count of the rest), and attachment bytes held in
 * memory across uploads stop at UPLOAD_MAX_INFLIGHT_BYTES (503 with Retry-After beyond it, released when done).
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { rawRequest } from '../support/raw-http.js'
import { expectProblem, JSON_CT, KEY, securityGateway, vendorCalls } from './support.js'

const MB = 1_048_576
const s = securityGateway({ env: { UPLOAD_MAX_INFLIGHT_BYTES: String(10 * MB) } })
const B = 'bNd3dB0undary'

function upload (bytes: number): { head: string, file: Buffer, tail: string } {
  const payload = JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: `https://bounded-${bytes}.example/` } })
  return {
    head: `--${B}\r\ncontent-disposition: form-data; name="payload"\r\n\r\n${payload}\r\n` +
      `--${B}\r\ncontent-disposition: form-data; name="attachments"; filename="dump.txt"\r\ncontent-type: text/plain\r\n\r\n`,
    file: Buffer.alloc(bytes, 0x61),
    tail: `\r\n--${B}--\r\n`
  }
}

describe('bounded answers and memory', () => {
  it('50,000 unknown providerOptions keys: a problem of a few KB listing 50 reasons and how many were left out', async () => {
    const options = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 1]))
    const body = JSON.stringify({ provider: 'cloudflare', target: { type: 'url', value: 'https://many-keys.example/' }, providerOptions: options })
    expect(body.length).toBeGreaterThan(500_000)
    const res = await rawRequest(s.port, { method: 'POST', path: '/v1/cases', headers: [KEY, JSON_CT], body })
    const problem = expectProblem(res, 400)
    expect(problem.errors).toHaveLength(50)
    expect(problem.errorsOmitted).toBeGreaterThanOrEqual(49_950)
    expect(res.text.length).toBeLessThan(16_000)
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST')).toEqual([])
  })

  it('uploads beyond the in-memory budget get 503 with Retry-After; the budget is released when a request ends', async () => {
    const budget = s.gw.app.uploadBudget
    // one upload holds 8 MB and stalls before its end
    const first = upload(9 * MB)
    const stalled = connect(s.port, '127.0.0.1')
    await new Promise<void>(resolve => stalled.once('connect', resolve))
    const length = Buffer.byteLength(first.head) + first.file.length + Buffer.byteLength(first.tail)
    stalled.write(`POST /v1/cases HTTP/1.1\r\nhost: x\r\nauthorization: ${KEY[1]}\r\ncontent-type: multipart/form-data; boundary=${B}\r\ncontent-length: ${length}\r\n\r\n${first.head}`)
    stalled.write(first.file.subarray(0, 8 * MB))
    for (let i = 0; i < 200 && budget.held < 8 * MB; i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect(budget.held).toBeGreaterThanOrEqual(8 * MB)

    // a second upload of 3 MB does not fit: 503 problem with Retry-After, nothing sent to the vendor
    const second = upload(3 * MB)
    const refused = await rawRequest(s.port, {
      method: 'POST',
      path: '/v1/cases',
      headers: [KEY, ['content-type', `multipart/form-data; boundary=${B}`]],
      body: Buffer.concat([Buffer.from(second.head), second.file, Buffer.from(second.tail)])
    })
    expect(expectProblem(refused, 503).detail).toMatch(/UPLOAD_MAX_INFLIGHT_BYTES/)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)

    // the stalled client goes away: its bytes are released, and the same upload now goes through
    stalled.destroy()
    for (let i = 0; i < 200 && budget.held > 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect(budget.held).toBe(0)
    const accepted = await rawRequest(s.port, {
      method: 'POST',
      path: '/v1/cases',
      headers: [KEY, ['content-type', `multipart/form-data; boundary=${B}`]],
      body: Buffer.concat([Buffer.from(second.head), second.file, Buffer.from(second.tail)])
    })
    expect(accepted.status, accepted.text).toBe(201)
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST').map(c => c.url)).toEqual(['/v1/incident/tkd'])
    expect(budget.held).toBe(0)
  })

  it('evidence for an id that names no case is refused before the upload is read, and the connection closed', async () => {
    const file = upload(3 * MB)
    const res = await rawRequest(s.port, {
      method: 'POST',
      path: '/v1/cases/phishfort:../attachments',
      headers: [KEY, ['content-type', `multipart/form-data; boundary=${B}`], ['content-length', String(20 * MB)]],
      body: Buffer.from(file.head),
      timeoutMs: 20_000
    })
    expect(expectProblem(res, 404).code).toBe('GW_ERR_CASE_NOT_FOUND')
    expect(res.headers.connection).toBe('close')
    expect(res.closedByServer).toBe(true)
    expect(s.gw.app.uploadBudget.held).toBe(0)
    expect(vendorCalls(s.gw)).toEqual([])
  })
})
