/**
 * Requests that could be read two ways are refused, not resolved silently: repeated Authorization headers, repeated
 * `payload` fields. Evidence is never dropped silently: a file name with CR/LF (RFC 5987 `filename*`) is kept safe.
 */
import { describe, expect, it } from 'vitest'
import { rawRequest } from '../support/raw-http.js'
import { expectProblem, KEY, securityGateway, vendorCalls } from './support.js'

const s = securityGateway()
const B = 'sEcB0undary'

function form (parts: Array<{ name: string, value: string, filename?: string, disposition?: string, type?: string }>): string {
  return parts.map(p => `--${B}\r\ncontent-disposition: form-data; name="${p.name}"${p.disposition ?? (p.filename === undefined ? '' : `; filename="${p.filename}"`)}\r\n` +
    (p.type === undefined ? '' : `content-type: ${p.type}\r\n`) + `\r\n${p.value}\r\n`).join('') + `--${B}--\r\n`
}

describe('ambiguous requests', () => {
  it('two Authorization headers are a 400 problem, whichever comes first, and reach no vendor', async () => {
    for (const headers of [
      [KEY, ['authorization', 'Bearer wrong']],
      [['authorization', 'Bearer wrong'], KEY],
      [KEY, KEY]
    ] as Array<Array<[string, string]>>) {
      const res = await rawRequest(s.port, { path: '/v1/cases?limit=1', headers })
      const body = expectProblem(res, 400, JSON.stringify(headers))
      expect(body.errors).toEqual([{ path: '/headers/authorization', message: 'appears more than once' }])
    }
    expect(vendorCalls(s.gw)).toEqual([])
  })

  it('two payload fields in a multipart create are a 400 problem and create nothing', async () => {
    const first = JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: 'https://first.example/' } })
    const second = JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: 'https://second.example/' } })
    const res = await rawRequest(s.port, {
      method: 'POST',
      path: '/v1/cases',
      headers: [KEY, ['content-type', `multipart/form-data; boundary=${B}`]],
      body: form([{ name: 'payload', value: first }, { name: 'payload', value: second }])
    })
    const body = expectProblem(res, 400)
    expect(body.errors).toEqual([{ path: '/payload', message: 'appears more than once' }])
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST')).toEqual([])
  })

  it('a file whose RFC 5987 filename* holds CR/LF is refused with a 400 problem, not dropped while the create succeeds', async () => {
    const payload = JSON.stringify({ provider: 'phishfort', target: { type: 'url', value: 'https://crlf-evidence.example/login' } })
    const send = async (disposition: string) => await rawRequest(s.port, {
      method: 'POST',
      path: '/v1/cases',
      headers: [KEY, ['content-type', `multipart/form-data; boundary=${B}`]],
      body: form([{ name: 'payload', value: payload }, { name: 'attachments', value: 'evidence text', disposition, type: 'text/plain' }])
    })
    for (const disposition of ["; filename*=UTF-8''shot%0D%0AX-Injected%3A%201.txt", "; filename*=UTF-8''shot%0A.txt"]) {
      const body = expectProblem(await send(disposition), 400, disposition)
      expect(body.detail).toMatch(/1 form part\(s\) could not be read/)
    }
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST')).toEqual([])

    // the same evidence with a control character the parser passes on is kept, under a safe name
    const res = await send('; filename="shot\tone.txt"')
    expect(res.status, res.text).toBe(201)
    const detail = await rawRequest(s.port, { path: `/v1/cases/${res.json().id as string}`, headers: [KEY] })
    expect(JSON.stringify(detail.json().history)).toMatch(/1 attachment\(s\) added/)
    expect(vendorCalls(s.gw).filter(c => c.method === 'POST').map(c => c.url)).toEqual(['/v1/incident/tkd'])
  })
})
