/**
 * Google service-account authentication without Google's libraries (docs/adr/0040-webrisk-own-jwt-bearer.md): an
 * RS256 JWT signed with node:crypto, exchanged at the key file's `token_uri` (or WEBRISK_TOKEN_URL) for an access
 * token (RFC 7523 JWT-bearer grant, as Google's "OAuth 2.0 for Server to Server Applications" describes it). The
 * token is kept until 5 minutes before it expires. The private key and the tokens never reach a log line or an error.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'undici'
import type { Clock } from '../../clock.js'
import { ConnectorError, type ConnectorContext, type ConnectorDeps } from '../connector.js'
import { VendorHttp } from '../http.js'

const PROVIDER = 'webrisk'
export const WEBRISK_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** a token is replaced this long before Google says it expires */
export const TOKEN_EARLY_MS = 5 * 60_000
/** Google accepts assertions valid for at most an hour */
const ASSERTION_SECONDS = 3600

export interface ServiceAccount {
  clientEmail: string
  privateKeyId: string | null
  key: KeyObject
  tokenUri: string | null
}

/** Thrown at every call when the credential is not a usable key file: the gateway reports the provider misconfigured. */
function badCredential (why: string): ConnectorError {
  return new ConnectorError(PROVIDER, 'auth', `WEBRISK_CREDENTIALS is not a usable service-account key file: ${why}`)
}

/**
 * The key file from WEBRISK_CREDENTIALS: inline JSON (starts with `{`) or a path to the JSON file. The reason it is
 * unusable never quotes the file (it holds the private key).
 */
export function readServiceAccount (credential: string): ServiceAccount | ConnectorError {
  let text = credential.trim()
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8')
    } catch (err) {
      return badCredential(`neither inline JSON nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`)
    }
  }
  let json: Record<string, unknown>
  try {
    const parsed = JSON.parse(text) as unknown
    if (typeof parsed !== 'object' || parsed === null) return badCredential('not a JSON object')
    json = parsed as Record<string, unknown>
  } catch {
    return badCredential('not valid JSON')
  }
  if (typeof json.client_email !== 'string' || json.client_email === '') return badCredential('no client_email')
  if (typeof json.private_key !== 'string') return badCredential('no private_key')
  let key: KeyObject
  try {
    key = createPrivateKey(json.private_key.replace(/\\n/g, '\n'))
  } catch {
    return badCredential('private_key is not a PEM private key')
  }
  return {
    clientEmail: json.client_email,
    privateKeyId: typeof json.private_key_id === 'string' && json.private_key_id !== '' ? json.private_key_id : null,
    key,
    tokenUri: typeof json.token_uri === 'string' && json.token_uri !== '' ? json.token_uri : null
  }
}

function base64url (value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** The signed assertion: header {alg, typ, kid}, claims {iss, scope, aud, iat, exp}. */
export function signAssertion (account: ServiceAccount, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000)
  const header = { alg: 'RS256', typ: 'JWT', ...(account.privateKeyId === null ? {} : { kid: account.privateKeyId }) }
  const claims = { iss: account.clientEmail, scope: WEBRISK_SCOPE, aud: audience, iat, exp: iat + ASSERTION_SECONDS }
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signature = createSign('RSA-SHA256').update(unsigned).sign(account.key)
  return `${unsigned}.${base64url(signature)}`
}

/**
 * The token URL: WEBRISK_TOKEN_URL, else the key file's `token_uri`, else Google's. An override that starts with `/`
 * is a path on the API's origin (the simulator serves both).
 */
export function tokenUrlOf (override: string | undefined, account: ServiceAccount, apiBaseUrl: string): string {
  const chosen = override !== undefined && override !== '' ? override : (account.tokenUri ?? 'https://oauth2.googleapis.com/token')
  return chosen.startsWith('/') ? new URL(apiBaseUrl).origin + chosen : chosen
}

/** What the token endpoint says when it refuses: `{error, error_description}` (never the assertion). */
function tokenError (_status: number, body: unknown): string | null {
  if (body === null || typeof body !== 'object') return null
  const b = body as Record<string, unknown>
  const parts = [b.error, b.error_description].filter((p): p is string => typeof p === 'string' && p !== '')
  return parts.length === 0 ? null : `token endpoint: ${parts.join(': ').slice(0, 200)}`
}

interface Token { value: string, refreshAt: number }

/** Access tokens for one service account, fetched on demand and shared by concurrent calls. */
export class TokenSource {
  readonly #account: ServiceAccount | ConnectorError
  readonly #url: string
  readonly #http: VendorHttp | null
  readonly #clock: Clock
  #token: Token | null = null
  #pending: Promise<Token> | null = null

  constructor (opts: { credential: string, tokenUrl?: string, apiBaseUrl: string, timeoutMs: number }, deps: ConnectorDeps) {
    this.#account = readServiceAccount(opts.credential)
    this.#clock = deps.clock
    this.#url = this.#account instanceof ConnectorError ? '' : tokenUrlOf(opts.tokenUrl, this.#account, opts.apiBaseUrl)
    this.#http = this.#url === ''
      ? null
      : new VendorHttp({ provider: PROVIDER, baseUrl: this.#url, dispatcher: deps.dispatcher, headers: { accept: 'application/json' }, timeoutMs: opts.timeoutMs, parseError: tokenError, clock: deps.clock })
  }

  /** A token valid for at least 5 more minutes. */
  async get (ctx: ConnectorContext): Promise<string> {
    if (this.#token !== null && this.#clock.now() < this.#token.refreshAt) return this.#token.value
    this.#pending ??= this.#fetch(ctx).finally(() => { this.#pending = null })
    this.#token = await this.#pending
    return this.#token.value
  }

  /** Forgets the token (the API answered 401 with it). */
  invalidate (token: string): void {
    if (this.#token?.value === token) this.#token = null
  }

  async #fetch (ctx: ConnectorContext): Promise<Token> {
    if (this.#account instanceof ConnectorError) throw this.#account
    const http = this.#http as VendorHttp
    const now = this.#clock.now()
    let body: unknown
    try {
      // safe to repeat: an exchange creates nothing at Google
      body = (await http.call({ method: 'POST', path: '', urlencoded: { grant_type: JWT_BEARER, assertion: signAssertion(this.#account, this.#url, now) }, idempotent: true }, ctx)).body
    } catch (err) {
      // a refused grant (400 invalid_grant, 401, 403) is our credential; the rest keep their kind
      if (err instanceof ConnectorError && err.kind === 'rejected') throw new ConnectorError(PROVIDER, 'auth', err.message, { upstreamStatus: err.upstreamStatus })
      throw err
    }
    const b = (body ?? {}) as Record<string, unknown>
    if (typeof b.access_token !== 'string' || b.access_token === '') throw new ConnectorError(PROVIDER, 'protocol', 'the token endpoint answered without an access_token')
    const expiresIn = typeof b.expires_in === 'number' && b.expires_in > 0 ? b.expires_in : 3600
    return { value: b.access_token, refreshAt: now + Math.max(expiresIn * 1000 - TOKEN_EARLY_MS, 0) }
  }
}

/**
 * One access token for a key file, outside the gateway (the bench's baselines call Web Risk directly): the same
 * assertion and exchange as `TokenSource`, with no caching, budget or retries.
 */
export async function exchangeOnce (credential: string, tokenUrl: string | undefined, apiBaseUrl: string): Promise<string> {
  const account = readServiceAccount(credential)
  if (account instanceof ConnectorError) throw account
  const url = tokenUrlOf(tokenUrl, account, apiBaseUrl)
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: signAssertion(account, url, Date.now()) }).toString()
  })
  const body = await res.body.json() as Record<string, unknown>
  if (res.statusCode !== 200 || typeof body.access_token !== 'string') throw new ConnectorError(PROVIDER, 'auth', `the token endpoint answered ${res.statusCode}`)
  return body.access_token
}
