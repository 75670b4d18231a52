/**
 * The typed client SOC tooling gets from the document: openapi-typescript types (openapi/client/schema.d.ts,
 * `npm run openapi:client`) used through openapi-fetch against the gateway as `npm start` serves it. Lists,
 * creates, reads and cancels a case; tsc checks the calls against the generated types.
 */
import createClient, { type Client } from 'openapi-fetch'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { components, paths } from '../../openapi/client/schema.js'
import { listenSandboxGateway, type ListeningGateway } from '../support/sandbox-gateway.js'

type Case = components['schemas']['Case']
type Problem = components['schemas']['Problem']

let gw: ListeningGateway
let client: Client<paths>

beforeAll(async () => {
  gw = await listenSandboxGateway()
  client = createClient<paths>({ baseUrl: gw.origin, headers: { Authorization: 'Bearer sandbox' } })
})
afterAll(async () => { await gw.close() })

describe('typed client (openapi-typescript + openapi-fetch)', () => {
  it('lists, creates, reads and cancels a case', async () => {
    const listed = await client.GET('/v1/cases', { params: { query: { provider: 'bforeai', limit: 5 } } })
    expect(listed.response.status).toBe(200)
    const page = listed.data
    if (page === undefined) throw new Error(`list failed: ${JSON.stringify(listed.error)}`)
    expect(page.items.length).toBeGreaterThan(0)
    expect(page.items.length).toBeLessThanOrEqual(5)
    expect(page.items.every((c: Case) => c.provider === 'bforeai')).toBe(true)
    expect(page.partial).toBe(false)

    const created = await client.POST('/v1/cases', {
      params: { header: { 'idempotency-key': 'client-test-create-1' } },
      body: {
        provider: 'bforeai',
        target: { type: 'url', value: 'https://acme-verify-client.example.net/login' },
        brand: { id: 501 },
        comment: 'Look-alike login page (typed client test)'
      }
    })
    expect(created.response.status).toBe(201)
    const c = created.data
    if (c === undefined || !('id' in c)) throw new Error(`create failed: ${JSON.stringify(created.error)}`)
    expect(c.provider).toBe('bforeai')
    expect(c.target).toMatchObject({ type: 'url', value: 'https://acme-verify-client.example.net/login' })
    expect(created.response.headers.get('location')).toBe(c.links.self)

    const read = await client.GET('/v1/cases/{id}', { params: { path: { id: c.id } } })
    expect(read.response.status).toBe(200)
    expect(read.data?.id).toBe(c.id)
    expect(read.data?.history.length).toBeGreaterThan(0)

    const cancelled = await client.POST('/v1/cases/{id}/cancel', {
      params: { path: { id: c.id } },
      body: { reasonId: 1, description: 'false positive (typed client test)' }
    })
    expect(cancelled.response.status).toBe(200)
    expect(cancelled.data?.id).toBe(c.id)
    expect(cancelled.data?.status).toBe('cancelled')
    expect(cancelled.data?.terminal).toBe(true)
  })

  it('gets errors as typed RFC 9457 problems', async () => {
    const missing = await client.GET('/v1/cases/{id}', { params: { path: { id: 'phishfort:no-such-case-0000' } } })
    expect(missing.response.status).toBe(404)
    expect(missing.response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const problem: Problem | undefined = missing.error
    expect(problem?.status).toBe(404)
    expect(problem?.instance).toMatch(/^\/v1\/cases\/phishfort(:|%3A)no-such-case-0000$/)
    expect(problem?.type).toBe('https://takedown-gateway.dev/problems/case-not-found')

    // BforeAI cancels (PhishFort cannot, which it says before looking at the body)
    const refused = await client.POST('/v1/cases/{id}/cancel', {
      params: { path: { id: 'bforeai:no-such-case-0000' } },
      body: { reasonId: 0 }
    })
    expect(refused.response.status).toBe(400)
    expect(refused.error?.errors).toEqual([expect.objectContaining({ path: '/reasonId' })])
  })

  it('refuses ill-typed calls at compile time (checked by tsc)', () => {
    // never called: these lines only have to fail type checking
    const typeChecks = async (): Promise<void> => {
      // @ts-expect-error reasonId is an integer, not a string
      await client.POST('/v1/cases/{id}/cancel', { params: { path: { id: 'x' } }, body: { reasonId: '1' } })
      // @ts-expect-error "fixed" is not a target type
      await client.POST('/v1/cases', { body: { target: { type: 'fixed', value: 'x' } } })
      // @ts-expect-error no such route
      await client.GET('/v1/case')
    }
    expect(typeof typeChecks).toBe('function')
  })
})
