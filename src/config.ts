/**
 * Configuration (README 'Configuration'): the only reader of process.env. Every problem is collected and reported in one
 * message, so an operator fixes a bad deployment in one go.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { TARGET_TYPES, type TargetType } from './schemas/common.js'
import type { BatchSettings } from './services/batches.js'
import { isProviderId, PROVIDER_IDS, type ProviderId } from './schemas/provider.js'
import type { StatusOverrides } from './status/engine.js'
import { loadStatusOverrides } from './status/overrides.js'
import { PROVIDER_MODULES, PROVIDERS } from './providers/registry.js'
import type { HostPort, RedisTarget } from './store/redis-kv-store.js'
import { DEFAULT_RETRY_SCHEDULE_MS, parseSchedule } from './domain/retry-schedule.js'

export const SCOPES = ['read', 'write', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

export interface ApiKey { name: string, secret: string, scopes: ReadonlySet<Scope> }

export interface ProviderConfig {
  id: ProviderId
  baseUrl: string
  credential: string | null
  timeoutMs: number
  /** the vendor's own settings by the keys its module declares (connectors/<id>/provider.ts `options`) */
  options: Record<string, string>
  /** bulkhead: calls in flight at once (also the connection cap of the vendor's pool) and calls queued behind them */
  maxConcurrency: number
  maxQueue: number
  /** outbound budget per vendor credential, shared by replicas through the store; null = unlimited */
  outboundBudget: { limit: number, windowMs: number } | null
}

export interface Config {
  port: number
  host: string
  sandbox: boolean
  /** REDIS_URL as given (null when unset); see `redis` for Sentinel/Cluster */
  redisUrl: string | null
  /** the Redis to use, or null = process memory */
  redis: RedisTarget | null
  /** prepended to every key the gateway writes to Redis (several gateways on one Redis) */
  redisKeyPrefix: string
  /** the store epoch: how often it is checked, how long /readyz says "degraded" after a loss */
  storeEpoch: { checkMs: number, degradedMs: number }
  apiKeys: ApiKey[]
  /**
   * Fastify's `trustProxy`: which proxies' X-Forwarded-For names the client address (the auth throttle, the access
   * log): false (none, the default), a hop count, or the proxies' addresses, CIDRs and proxy-addr range names
   */
  trustProxy: false | number | string[]
  /** true when GATEWAY_API_KEYS was unset and the sandbox key is in use */
  sandboxKey: boolean
  gatewaySecret: string
  /** true when GATEWAY_SECRET was unset and a random one was drawn (sandbox only) */
  randomSecret: boolean
  /**
   * sandbox mode on Redis with a random GATEWAY_SECRET or WEBHOOK_ENCRYPTION_KEY: this run's id, appended to
   * `redisKeyPrefix` (another run's cursors, sealed secrets and snapshots of restarted simulators are not read)
   */
  sandboxRun: string | null
  logLevel: string
  statusMapFile: string | null
  /** the entries of STATUS_MAP_FILE, read and checked with the rest of the configuration */
  statusOverrides: StatusOverrides
  providers: Record<ProviderId, ProviderConfig>
  referenceTtlMs: number
  referenceStaleMs: number
  /** per target type, the providers POST /v1/cases tries in order when the body names none */
  routing: Record<TargetType, ProviderId[]>
  /** circuit breaker in front of every provider */
  circuit: { failureThreshold: number, halfOpenAfterMs: number }
  /** inbound rate limit per gateway key */
  rateLimit: { max: number, windowMs: number }
  /** load shedding: event-loop delay above which requests get 503 (0 = off) */
  maxEventLoopDelayMs: number
  /** on SIGTERM: how long /readyz answers 503 while requests are still served, before the listener closes */
  shutdownDelayMs: number
  /** browser origins allowed to call the API (CORS); empty = CORS off, `*` = any origin */
  corsOrigins: string[]
  /** bounds a client cannot move: request deadline, JSON depth, failed-auth throttle, upload memory */
  limits: Limits
  /** bulk submission (POST /v1/batches) */
  batches: BatchSettings
  /** outbound webhooks: signed deliveries of case events to registered endpoints */
  webhooks: WebhookConfig
  /** case change events: the event log, the watcher, inbound PhishFort webhooks */
  events: EventsConfig
  /** target intelligence: cross-provider duplicates, the target index, RDAP enrichment */
  targets: TargetsConfig
}

export interface TargetsConfig {
  /** where a create looks for an open case for its target: every live provider, or only the chosen one */
  duplicateScope: 'all' | 'provider'
  rdap: {
    enabled: boolean
    /** how long a looked-up record is kept (shared by replicas through the store) */
    ttlMs: number
    /** how long a failed lookup is remembered before it is tried again */
    errorTtlMs: number
    timeoutMs: number
    /** requests per window sent to one RDAP server, shared by replicas */
    serverBudget: { limit: number, windowMs: number }
    /** a directory with IANA's dns.json, ipv4.json, ipv6.json, asn.json (null: the copies shipped with the gateway) */
    bootstrapDir: string | null
    /** every lookup goes to this server instead of the bootstrap's (sandbox, tests, a local RDAP mirror) */
    baseUrl: string | null
  }
}

export interface WebhookConfig {
  /** AES-256-GCM key sealing endpoint secrets (and the registered PhishFort webhook secret) at rest */
  encryptionKey: Buffer
  /** true when WEBHOOK_ENCRYPTION_KEY was unset and a random key was drawn (sandbox only) */
  randomKey: boolean
  /** false outside sandbox mode without WEBHOOK_ENCRYPTION_KEY: the endpoints API and the PhishFort webhook registration answer 503 naming the variable */
  enabled: boolean
  allowPrivate: boolean
  allowHttp: boolean
  retryScheduleMs: number[]
  retryJitter: number
  disableAfterMs: number
  timeoutMs: number
  maxResponseBytes: number
  endpointConcurrency: number
  concurrency: number
  rotationOverlapMs: number
  jobLockMs: number
}

export interface EventsConfig {
  /** a Redis for the event log alone (null: the main one, or memory) */
  redisUrl: string | null
  retentionMs: number
  timelineRetentionMs: number
  /** how often every event stream gets a keep-alive comment */
  streamHeartbeatMs: number
  watch: {
    enabled: boolean
    lookbackMs: number
    /** sync cadence per provider (absent: not watched) */
    intervals: Partial<Record<ProviderId, number>>
    oldCaseIntervalMs: number
    oldCaseBatch: number
    /** percent of each vendor's outbound budget the watcher may use */
    budgetSharePercent: number
  }
  /** PhishFort webhook signing secrets: the current one and, during a rotation, the other */
  phishfortWebhookSecrets: string[]
  /** sandbox simulators' clock speed (1 = real time) */
  sandboxSpeed: number
}

export interface Limits {
  requestTimeoutMs: number
  jsonMaxDepth: number
  authFailures: { max: number, windowMs: number }
  uploadMaxInflightBytes: number
}

/** Default routing: per target type, the providers that declare a rank for it (connectors/<id>/provider.ts), lowest rank first. */
export const DEFAULT_ROUTING = Object.fromEntries(TARGET_TYPES.map(type => [type, PROVIDERS
  .filter(m => m.routing[type as keyof typeof m.routing] !== undefined)
  .sort((a, b) => (a.routing[type as keyof typeof a.routing] ?? 0) - (b.routing[type as keyof typeof b.routing] ?? 0))
  .map(m => m.id)])) as Record<TargetType, ProviderId[]>

/** Every variable the gateway reads, with its meaning: the README table and docker files are checked against it. */
export const ENV_VARS: Record<string, string> = {
  PORT: 'listen port (default 3000)',
  HOST: 'listen address (default 127.0.0.1 in sandbox mode, 0.0.0.0 otherwise)',
  REDIS_URL: 'Redis for the shared cache, idempotency records and rate limits (redis:// or rediss://); unset = in-process memory',
  REDIS_SENTINELS: 'Redis Sentinel instead of REDIS_URL: comma-separated host:port of the sentinels (needs REDIS_SENTINEL_NAME)',
  REDIS_SENTINEL_NAME: 'name of the master the sentinels watch (with REDIS_SENTINELS)',
  REDIS_CLUSTER_NODES: 'Redis Cluster instead of REDIS_URL: comma-separated host:port of some cluster nodes',
  REDIS_KEY_PREFIX: 'prefix of every Redis key the gateway writes (default none); replicas of one gateway share it. A sandbox with a random GATEWAY_SECRET or WEBHOOK_ENCRYPTION_KEY adds `sandbox-<run id>:` to it (each run starts over)',
  STORE_EPOCH_CHECK_MS: 'how often each replica checks that Redis still holds the store epoch (it also checks after every reconnect); a missing epoch means Redis lost its data (default 10000)',
  STORE_LOSS_DEGRADED_MS: 'after Redis lost its data, how long /readyz answers 200 with status "degraded" and the reason (default 900000 = 15 min)',
  GATEWAY_API_KEYS: 'the gateway\'s clients: comma-separated name:secret[:scope+scope] (scopes read, write, admin); outside sandbox mode each secret is at least 22 characters (128 bits as base64url)',
  TRUST_PROXY: 'the reverse proxies whose X-Forwarded-For gives the client address: a hop count (1 = the nearest), or comma-separated addresses and CIDRs of the proxies (also loopback, linklocal, uniquelocal); default unset: none, the TCP peer is the client',
  SANDBOX: 'true: every provider is served by the built-in simulators; false: never (default: true when no provider has credentials)',
  GATEWAY_SECRET: 'signs cursors; every replica needs the same value',
  LOG_LEVEL: 'pino level (default info)',
  STATUS_MAP_FILE: 'JSON file adding or overriding provider-status → unified-status entries',
  ROUTING_RULES: 'JSON object (or @path to a JSON file) mapping target types to providers tried in order when a create names none, e.g. {"url":["cloudflare","phishfort"]}',
  REFERENCE_TTL_MS: 'how long reference data is fresh (default 3600000 = 1 h)',
  REFERENCE_STALE_MS: 'how long stale reference data may still be served while refreshing or when the vendor fails (default 86400000 = 24 h)',
  CIRCUIT_FAILURE_THRESHOLD: 'consecutive provider failures (unavailable, timeout, protocol) that open its circuit (default 5)',
  CIRCUIT_HALF_OPEN_AFTER_MS: 'how long an open circuit fails fast before one trial call (default 10000)',
  RATE_LIMIT_MAX: 'requests per gateway key per window (default 6000; 0 = off); ops routes are exempt',
  RATE_LIMIT_WINDOW_MS: 'window of RATE_LIMIT_MAX (default 60000)',
  MAX_EVENT_LOOP_DELAY_MS: 'event-loop delay above which the gateway sheds load with 503 (default 1000; 0 = off)',
  CORS_ORIGINS: 'browser origins allowed to call the API, comma-separated (e.g. https://soc.acme.example,http://localhost:5173), or * for any; default unset: CORS off',
  SHUTDOWN_DELAY_MS: 'on SIGTERM, how long /readyz answers 503 while requests are still served before the gateway stops accepting connections and drains (default 0; e.g. 5000 behind a load balancer that polls /readyz)',
  REQUEST_TIMEOUT_MS: 'deadline for receiving a whole request, headers and body; slower clients get 408 and the connection is closed (default 30000)',
  JSON_MAX_DEPTH: 'deepest nesting of objects and arrays a JSON body (or multipart payload) may have; deeper is a 400 (default 32)',
  AUTH_FAILURE_MAX: 'failed authentications per client address per window before 429, counted across replicas (default 20; 0 = off)',
  AUTH_FAILURE_WINDOW_MS: 'window of AUTH_FAILURE_MAX (default 60000)',
  UPLOAD_MAX_INFLIGHT_BYTES: 'attachment bytes the gateway holds in memory at once across all uploads; an upload beyond it gets 503 with Retry-After (default 67108864 = 64 MB)',
  WEBHOOK_ENCRYPTION_KEY: 'AES-256-GCM key sealing webhook endpoint secrets and the registered PhishFort webhook secret at rest: 32 bytes as 64 hex digits or base64; the same on every replica (unset: outbound webhooks and PhishFort webhook registration are off in live mode, their routes answering 503; random per process in sandbox mode)',
  WEBHOOK_ALLOW_PRIVATE: 'true: webhook URLs may reach loopback, private, link-local and CGNAT addresses (tests and sandbox only; refused in live mode). Default: true in sandbox mode, false otherwise',
  WEBHOOK_ALLOW_HTTP: 'true: webhook URLs may use http:// (default: true in sandbox mode, false otherwise)',
  WEBHOOK_RETRY_SCHEDULE: 'waits before each delivery attempt, comma-separated, units ms/s/m/h (default 0,5s,5m,30m,2h,5h,10h,10h)',
  WEBHOOK_RETRY_JITTER: 'share (0-1) by which each retry wait is stretched at random (default 0.2)',
  WEBHOOK_DISABLE_AFTER_MS: 'an endpoint failing this long without a success is disabled (default 432000000 = 5 days)',
  WEBHOOK_TIMEOUT_MS: 'deadline of one delivery attempt (default 15000)',
  WEBHOOK_MAX_RESPONSE_BYTES: 'bytes of a receiver\'s answer read and kept (default 4096)',
  WEBHOOK_ENDPOINT_CONCURRENCY: 'deliveries to one endpoint in flight at once per replica (default 4)',
  WEBHOOK_CONCURRENCY: 'delivery jobs one replica runs at once (default 32)',
  WEBHOOK_JOB_LOCK_MS: 'how long a delivery job stays with the replica running it; after a crash another replica takes it over once this runs out (default 30000)',
  WEBHOOK_ROTATION_OVERLAP_MS: 'default time a rotated-out secret keeps signing next to the new one (default 86400000 = 24 h)',
  EVENTS_REDIS_URL: 'a separate Redis for the event log and case snapshots (default: REDIS_URL); the gateway refuses to start when its maxmemory-policy is not noeviction',
  EVENTS_RETENTION_DAYS: 'how long GET /v1/events and the stream can resume from an event id (default 30); older ids get 410',
  EVENTS_TIMELINE_RETENTION_DAYS: 'how long a case timeline keeps events after the case\'s last change (default 365)',
  EVENTS_STREAM_HEARTBEAT_MS: 'a `: keep-alive` comment goes to every GET /v1/events/stream client this often, so proxies keep idle streams open (default 15000)',
  DUPLICATE_SCOPE: '`all` (default): a create is refused (409) when any live provider has an open case for the same canonical target (the chosen one asked, the others from the target index); `provider`: only the chosen provider is checked',
  RDAP_ENABLED: 'true: case detail and GET /v1/targets/lookup carry RDAP registrar and hosting facts (default true in sandbox mode, where the RDAP simulator answers; false otherwise)',
  RDAP_TTL_MS: 'how long an RDAP answer is kept in the store, shared by replicas (default 86400000 = 1 day)',
  RDAP_ERROR_TTL_MS: 'how long a failed RDAP lookup is remembered before it is tried again (default 300000 = 5 min)',
  RDAP_TIMEOUT_MS: 'per-request timeout for RDAP servers (default 5000)',
  RDAP_SERVER_BUDGET: 'requests per window sent to one RDAP server, shared by replicas (default 30)',
  RDAP_SERVER_WINDOW_MS: 'window of RDAP_SERVER_BUDGET (default 60000)',
  RDAP_BOOTSTRAP_DIR: 'directory with IANA bootstrap files dns.json, ipv4.json, ipv6.json, asn.json (default: the copies shipped in src/features/targets/rdap/bootstrap, refreshed by npm run rdap:bootstrap)',
  RDAP_BASE_URL: 'send every RDAP query to this server instead of the bootstrap\'s (a local mirror or a test server; the sandbox needs none: its bootstrap points at its RDAP simulator)',
  WATCH_ENABLED: 'false: no scheduled vendor syncs (events then come only from reads, writes and webhooks; default true)',
  WATCH_LOOKBACK_DAYS: 'each sync reads every case created in this many days (default 90) and, of older ones, those open now',
  WATCH_OLD_CASES_INTERVAL_MS: 'cadence of the re-read of open cases older than the look-back window (default 3600000 = 1 h)',
  WATCH_OLD_CASES_BATCH: 'old open cases re-read per tick (default 50)',
  WATCH_BUDGET_SHARE_PERCENT: 'percent of a vendor\'s outbound budget the watcher may use (default 20; vendors without a budget are not limited)',
  PHISHFORT_WEBHOOK_SECRETS: 'comma-separated signing secrets of the PhishFort webhook subscription (two during a rotation); unset = POST /v1/inbound/phishfort refuses every delivery',
  SANDBOX_SPEED: 'sandbox only: how many times faster than real time the simulators move their cases along (default 1; e.g. 600 = an hour in 6 s): waits are shorter, every time they report stays on the wall clock; above 1, new cases also arrive at PhishFort or BforeAI every 30 s',
  BATCH_MAX_ITEMS: 'most items one POST /v1/batches may hold (default 1000)',
  BATCH_RETENTION_DAYS: 'how long batches and their item outcomes are kept (default 30)',
  BATCH_CONCURRENCY: 'batch items one replica works on at once (default 4)',
  BATCH_BUDGET_SHARE: 'percent of each vendor outbound budget batch work may use; the rest stays for interactive requests (default 50)',
  BATCH_ITEM_CLAIM_MS: 'how long a batch item stays claimed by a replica that died before another may take it; one item create must finish in half of it (default 60000)',
  BATCH_ITEM_ATTEMPTS: 'attempts per batch item through passing vendor faults (connection lost, timeout, 5xx, 429) before the item is failed (default 8)'
}

/** The variables of one provider, from its module: credential, own options, base URL, timeout, bulkhead, budget. */
function providerEnvVars (id: ProviderId): Record<string, string> {
  const m = PROVIDER_MODULES[id]
  const prefix = id.toUpperCase()
  const window = m.budget.windowMs % 60_000 === 0 && m.budget.windowMs > 60_000 ? `${m.budget.windowMs} = ${m.budget.windowMs / 60_000} min` : String(m.budget.windowMs)
  return {
    [m.credential.env]: m.credential.description,
    ...Object.fromEntries((m.options ?? []).map(o => [o.env, o.description + (o.default === undefined ? '' : ` (default ${o.default})`)])),
    [`${prefix}_BASE_URL`]: `${m.name} base URL (default ${m.baseUrl})`,
    [`${prefix}_TIMEOUT_MS`]: `per-request timeout for ${m.name} (default 10000)`,
    [`${prefix}_MAX_CONCURRENCY`]: `${m.name} calls in flight at once, also its connection cap (default 16)`,
    [`${prefix}_MAX_QUEUE`]: `${m.name} calls waiting for a slot before the gateway answers 503 (default 32)`,
    [`${prefix}_OUTBOUND_BUDGET`]: `requests per window sent to ${m.name} per credential, shared by replicas (default ${m.budget.limit === 0 ? '0 = unlimited' : `${m.budget.limit}, ${m.budget.source ?? 'the vendor limit'}; 0 = unlimited`})`,
    [`${prefix}_OUTBOUND_WINDOW_MS`]: `window of ${prefix}_OUTBOUND_BUDGET (default ${window})`,
    [`WATCH_${prefix}_INTERVAL_MS`]: `${m.name} sync cadence of the case-events watcher (default ${m.watchIntervalMs ?? 60_000}, 10000 in sandbox mode; 0 = not watched)${m.watchNote === undefined ? '' : `; ${m.watchNote}`}`
  }
}
for (const id of PROVIDER_IDS) Object.assign(ENV_VARS, providerEnvVars(id))

/** What an operator sets to turn a provider on (the words of the start-up warning, the 503 and the create 422). */
export function howToTurnOn (id: ProviderId): string {
  const m = PROVIDER_MODULES[id]
  return `set ${[m.credential.env, ...(m.options ?? []).filter(o => o.required === true).map(o => o.env)].join(' and ')}`
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

type Env = Record<string, string | undefined>

export function loadConfig (env: Env = process.env): Config {
  const problems: string[] = []
  const get = (name: string): string | undefined => {
    const v = env[name]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name)
    if (raw === undefined) return def
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`)
      return def
    }
    return n
  }

  const anyCredential = PROVIDERS.some(m => get(m.credential.env) !== undefined)
  let sandbox = !anyCredential
  const sandboxRaw = get('SANDBOX')
  if (sandboxRaw !== undefined) {
    if (!['true', 'false', '1', '0'].includes(sandboxRaw.toLowerCase())) problems.push(`SANDBOX must be true or false (got "${sandboxRaw}")`)
    else sandbox = ['true', '1'].includes(sandboxRaw.toLowerCase())
  }

  const providers = {} as Record<ProviderId, ProviderConfig>
  for (const id of PROVIDER_IDS) {
    const prefix = id.toUpperCase()
    const m = PROVIDER_MODULES[id]
    const baseUrl = get(`${prefix}_BASE_URL`) ?? m.baseUrl
    try {
      const u = new URL(baseUrl)
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)')
    } catch {
      problems.push(`${prefix}_BASE_URL must be an http(s) URL (got "${baseUrl}")`)
    }
    const credential = get(m.credential.env) ?? null
    const options: Record<string, string> = {}
    for (const o of m.options ?? []) {
      const given = get(o.env)
      const value = given ?? o.default
      if (credential !== null && !sandbox && value === undefined && o.required === true) problems.push(`${o.env} is required when ${m.credential.env} is set`)
      // a value the operator set is checked in every mode (a typo shows at start, not at the first live call)
      if (given !== undefined && o.format !== undefined && !o.format.pattern.test(given)) problems.push(`${o.env} ${o.format.message} (got "${given}")`)
      if (value !== undefined) options[o.key] = value
    }
    const budget = int(`${prefix}_OUTBOUND_BUDGET`, m.budget.limit, 0, 10_000_000)
    const budgetWindowMs = int(`${prefix}_OUTBOUND_WINDOW_MS`, m.budget.windowMs, 1000, 86_400_000)
    providers[id] = {
      id,
      baseUrl,
      credential,
      timeoutMs: int(`${prefix}_TIMEOUT_MS`, 10000, 100, 120000),
      options,
      maxConcurrency: int(`${prefix}_MAX_CONCURRENCY`, 16, 1, 1024),
      maxQueue: int(`${prefix}_MAX_QUEUE`, 32, 0, 10_000),
      outboundBudget: budget === 0 ? null : { limit: budget, windowMs: budgetWindowMs }
    }
  }

  let apiKeys: ApiKey[] = []
  let sandboxKey = false
  const keysRaw = get('GATEWAY_API_KEYS')
  if (keysRaw !== undefined) {
    apiKeys = parseApiKeys(keysRaw, problems, sandbox)
  } else if (sandbox) {
    apiKeys = [{ name: 'sandbox', secret: 'sandbox', scopes: new Set(SCOPES) }]
    sandboxKey = true
  } else {
    problems.push('GATEWAY_API_KEYS is required outside sandbox mode (comma-separated name:secret[:scope+scope])')
  }

  let gatewaySecret = get('GATEWAY_SECRET')
  let randomSecret = false
  if (gatewaySecret === undefined) {
    if (sandbox) {
      gatewaySecret = randomBytes(32).toString('base64url')
      randomSecret = true
    } else {
      problems.push('GATEWAY_SECRET is required outside sandbox mode (the same value on every replica)')
      gatewaySecret = ''
    }
  } else if (gatewaySecret.length < 16) {
    problems.push('GATEWAY_SECRET must be at least 16 characters')
  }

  const redisUrl = get('REDIS_URL') ?? null
  const redis = parseRedis(redisUrl, get('REDIS_SENTINELS'), get('REDIS_SENTINEL_NAME'), get('REDIS_CLUSTER_NODES'), problems)
  const redisKeyPrefix = get('REDIS_KEY_PREFIX') ?? ''
  if (!/^[\w:.-]{0,64}$/.test(redisKeyPrefix)) problems.push(`REDIS_KEY_PREFIX must be at most 64 letters, digits, _ : . - (got "${redisKeyPrefix}")`)

  const logLevel = get('LOG_LEVEL') ?? 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`)
  }

  const host = get('HOST') ?? (sandbox ? '127.0.0.1' : '0.0.0.0')
  // a dotted-number HOST must be an IPv4 address (999.1.1.1 would otherwise fail only at listen, as a DNS error)
  if (isIP(host) === 0 && (/^[\d.]+$/.test(host) || !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(host))) {
    problems.push(`HOST must be an IP address or a host name of this machine (got "${host}")`)
  }
  const statusMapFile = get('STATUS_MAP_FILE') ?? null

  const config: Config = {
    port: int('PORT', 3000, 0, 65535),
    host,
    sandbox,
    redisUrl,
    redis,
    redisKeyPrefix,
    storeEpoch: { checkMs: int('STORE_EPOCH_CHECK_MS', 10_000, 100, 3_600_000), degradedMs: int('STORE_LOSS_DEGRADED_MS', 900_000, 0, 7 * 86_400_000) },
    apiKeys,
    trustProxy: parseTrustProxy(get('TRUST_PROXY'), problems),
    sandboxKey,
    gatewaySecret,
    randomSecret,
    logLevel,
    statusMapFile,
    statusOverrides: statusMapFile === null ? {} : loadStatusOverrides(statusMapFile, problems),
    providers,
    referenceTtlMs: int('REFERENCE_TTL_MS', 3_600_000, 1000, 7 * 86_400_000),
    referenceStaleMs: int('REFERENCE_STALE_MS', 86_400_000, 0, 30 * 86_400_000),
    routing: parseRouting(get('ROUTING_RULES'), problems),
    circuit: {
      failureThreshold: int('CIRCUIT_FAILURE_THRESHOLD', 5, 1, 1000),
      halfOpenAfterMs: int('CIRCUIT_HALF_OPEN_AFTER_MS', 10_000, 10, 3_600_000)
    },
    rateLimit: { max: int('RATE_LIMIT_MAX', 6000, 0, 10_000_000), windowMs: int('RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000) },
    maxEventLoopDelayMs: int('MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
    shutdownDelayMs: int('SHUTDOWN_DELAY_MS', 0, 0, 120_000),
    corsOrigins: parseOrigins(get('CORS_ORIGINS'), problems),
    limits: {
      requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
      jsonMaxDepth: int('JSON_MAX_DEPTH', 32, 2, 1000),
      authFailures: { max: int('AUTH_FAILURE_MAX', 20, 0, 1_000_000), windowMs: int('AUTH_FAILURE_WINDOW_MS', 60_000, 1000, 86_400_000) },
      uploadMaxInflightBytes: int('UPLOAD_MAX_INFLIGHT_BYTES', 64 * 1_048_576, 10_485_760, 4 * 1_073_741_824)
    },
    events: parseEvents(get, int, problems, sandbox),
    batches: {
      maxItems: int('BATCH_MAX_ITEMS', 1000, 1, 100_000),
      retentionMs: int('BATCH_RETENTION_DAYS', 30, 1, 3650) * 86_400_000,
      concurrency: int('BATCH_CONCURRENCY', 4, 1, 256),
      budgetShare: int('BATCH_BUDGET_SHARE', 50, 1, 100) / 100,
      claimMs: int('BATCH_ITEM_CLAIM_MS', 60_000, 2000, 3_600_000),
      maxAttempts: int('BATCH_ITEM_ATTEMPTS', 8, 1, 100)
    },
    webhooks: parseWebhooks(get, int, sandbox, problems),
    targets: parseTargets(get, int, sandbox, problems),
    sandboxRun: null
  }
  if (problems.length > 0) throw new ConfigError(problems)
  if (sandbox && (randomSecret || config.webhooks.randomKey) && (redis !== null || config.events.redisUrl !== null)) {
    config.sandboxRun = randomBytes(4).toString('hex')
    config.redisKeyPrefix = `${redisKeyPrefix}sandbox-${config.sandboxRun}:`
  }
  return config
}

/** CORS_ORIGINS: `*`, or origins (scheme://host[:port], nothing after it). */
function parseOrigins (raw: string | undefined, problems: string[]): string[] {
  if (raw === undefined) return []
  const origins = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  if (origins.includes('*')) return ['*']
  for (const origin of origins) {
    let ok = false
    try { ok = /^https?:$/.test(new URL(origin).protocol) && new URL(origin).origin === origin.replace(/\/$/, '') } catch {}
    if (!ok) problems.push(`CORS_ORIGINS: "${origin}" is not an origin like https://soc.acme.example (scheme, host and port only) or *`)
  }
  return origins.map(o => o.replace(/\/$/, ''))
}

function parseEvents (get: (name: string) => string | undefined, int: (name: string, def: number, min: number, max: number) => number, problems: string[],
  sandbox: boolean): EventsConfig {
  const day = 86_400_000
  const redisUrl = get('EVENTS_REDIS_URL') ?? null
  if (redisUrl !== null && !/^rediss?:\/\/./.test(redisUrl)) problems.push('EVENTS_REDIS_URL must start with redis:// or rediss://')
  const intervals: Partial<Record<ProviderId, number>> = {}
  for (const id of PROVIDER_IDS) {
    // the simulators have no budget to spare: in sandbox mode every provider is watched every 10 s by default
    const ms = int(`WATCH_${id.toUpperCase()}_INTERVAL_MS`, sandbox ? 10_000 : PROVIDER_MODULES[id].watchIntervalMs ?? 60_000, 0, 86_400_000)
    if (ms > 0) intervals[id] = Math.max(ms, 1000)
  }
  const enabledRaw = (get('WATCH_ENABLED') ?? 'true').toLowerCase()
  if (!['true', 'false', '1', '0'].includes(enabledRaw)) problems.push(`WATCH_ENABLED must be true or false (got "${enabledRaw}")`)
  const secrets = (get('PHISHFORT_WEBHOOK_SECRETS') ?? '').split(',').map(x => x.trim()).filter(x => x !== '')
  if (secrets.length > 2) problems.push('PHISHFORT_WEBHOOK_SECRETS takes at most two secrets (the current one and the one being rotated)')
  if (secrets.some(x => x.length < 16)) problems.push('PHISHFORT_WEBHOOK_SECRETS: each secret must be at least 16 characters')
  const retentionMs = int('EVENTS_RETENTION_DAYS', 30, 1, 3650) * day
  const timelineRetentionMs = int('EVENTS_TIMELINE_RETENTION_DAYS', 365, 1, 3650) * day
  if (timelineRetentionMs < retentionMs) problems.push('EVENTS_TIMELINE_RETENTION_DAYS must be at least EVENTS_RETENTION_DAYS (timelines are kept longer than the log)')
  return {
    redisUrl,
    retentionMs,
    timelineRetentionMs,
    streamHeartbeatMs: int('EVENTS_STREAM_HEARTBEAT_MS', 15_000, 100, 300_000),
    watch: {
      enabled: ['true', '1'].includes(enabledRaw),
      lookbackMs: int('WATCH_LOOKBACK_DAYS', 90, 1, 3650) * day,
      intervals,
      oldCaseIntervalMs: int('WATCH_OLD_CASES_INTERVAL_MS', 3_600_000, 1000, 7 * day),
      oldCaseBatch: int('WATCH_OLD_CASES_BATCH', 50, 1, 10_000),
      budgetSharePercent: int('WATCH_BUDGET_SHARE_PERCENT', 20, 1, 100)
    },
    phishfortWebhookSecrets: secrets,
    sandboxSpeed: int('SANDBOX_SPEED', 1, 1, 100_000)
  }
}

/** REDIS_URL, REDIS_SENTINELS (+ REDIS_SENTINEL_NAME) and REDIS_CLUSTER_NODES exclude each other. */
export function parseRedis (url: string | null, sentinels: string | undefined, sentinelName: string | undefined, clusterNodes: string | undefined,
  problems: string[]): RedisTarget | null {
  const set = [url !== null && 'REDIS_URL', sentinels !== undefined && 'REDIS_SENTINELS', clusterNodes !== undefined && 'REDIS_CLUSTER_NODES'].filter(Boolean)
  if (set.length > 1) {
    problems.push(`set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES (got ${set.join(' and ')})`)
    return null
  }
  if (sentinelName !== undefined && sentinels === undefined) problems.push('REDIS_SENTINEL_NAME needs REDIS_SENTINELS')
  if (url !== null) {
    if (!/^rediss?:\/\/./.test(url)) problems.push('REDIS_URL must start with redis:// or rediss://')
    return { kind: 'url', url }
  }
  if (sentinels !== undefined) {
    const list = parseHostPorts('REDIS_SENTINELS', sentinels, problems)
    if (sentinelName === undefined) problems.push('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (the name of the master, e.g. mymaster)')
    return { kind: 'sentinel', sentinels: list, name: sentinelName ?? '' }
  }
  if (clusterNodes !== undefined) return { kind: 'cluster', nodes: parseHostPorts('REDIS_CLUSTER_NODES', clusterNodes, problems) }
  return null
}

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:26379`). */
export function parseHostPorts (name: string, raw: string, problems: string[]): HostPort[] {
  const out: HostPort[] = []
  for (const entry of raw.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(entry)
    const port = Number(m?.[3])
    if (m === null || port < 1 || port > 65535) {
      problems.push(`${name}: "${entry}" is not host:port`)
      continue
    }
    out.push({ host: m[1] ?? m[2] ?? '', port })
  }
  if (out.length === 0 && !problems.some(p => p.startsWith(name))) problems.push(`${name} has no host:port entries`)
  return out
}

/** a gateway key outside sandbox mode: 22 base64url characters are 128 bits, too many to guess through the API */
export const MIN_KEY_LENGTH = 22

function parseApiKeys (raw: string, problems: string[], sandbox: boolean): ApiKey[] {
  const keys: ApiKey[] = []
  const names = new Set<string>()
  for (const [i, entry] of raw.split(',').map(s => s.trim()).filter(s => s !== '').entries()) {
    const [name, secret, scopeList, ...rest] = entry.split(':')
    if (name === undefined || name === '' || secret === undefined || secret === '' || rest.length > 0) {
      problems.push(`GATEWAY_API_KEYS entry ${i + 1} must be name:secret[:scope+scope]`)
      continue
    }
    if (!sandbox && secret.length < MIN_KEY_LENGTH) {
      problems.push(`GATEWAY_API_KEYS entry "${name}": the secret has ${secret.length} characters; outside sandbox mode it must have at least ` +
        `${MIN_KEY_LENGTH} (128 bits as base64url, e.g. node -e "console.log(crypto.randomBytes(16).toString('base64url'))")`)
    } else if (secret.length < 8 && name !== 'sandbox') problems.push(`GATEWAY_API_KEYS entry "${name}": the secret must be at least 8 characters`)
    if (names.has(name)) problems.push(`GATEWAY_API_KEYS: the name "${name}" appears twice`)
    names.add(name)
    const scopes = scopeList === undefined || scopeList === '' ? ['read', 'write'] : scopeList.split('+')
    const bad = scopes.filter(s => !(SCOPES as readonly string[]).includes(s))
    if (bad.length > 0) problems.push(`GATEWAY_API_KEYS entry "${name}": unknown scope ${bad.join(', ')} (allowed: ${SCOPES.join(', ')})`)
    keys.push({ name, secret, scopes: new Set(scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s))) })
  }
  if (keys.length === 0 && problems.length === 0) problems.push('GATEWAY_API_KEYS has no entries')
  return keys
}

/** proxy-addr's names for address ranges (Fastify's `trustProxy` takes them like addresses) */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal']

/** TRUST_PROXY: a hop count, or addresses / CIDRs / range names of the trusted proxies; `true` (trust anyone) is refused. */
function parseTrustProxy (raw: string | undefined, problems: string[]): Config['trustProxy'] {
  if (raw === undefined) return false
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw)
    if (hops <= 10) return hops === 0 ? false : hops
    problems.push(`TRUST_PROXY as a hop count must be from 0 to 10 (got "${raw}")`)
    return false
  }
  const entries = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = entries.filter(e => {
    if (PROXY_RANGES.includes(e)) return false
    const [address, bits, ...rest] = e.split('/')
    const family = isIP(address ?? '')
    if (family === 0 || rest.length > 0) return true
    return bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
  })
  if (bad.length > 0 || entries.length === 0) {
    problems.push(`TRUST_PROXY must be a hop count or comma-separated proxy addresses, CIDRs or ${PROXY_RANGES.join('/')} (got "${raw}"): ` +
      (['true', 'yes', '*'].includes(raw.toLowerCase()) ? 'trusting every sender would let any client choose the address it is counted under' : `not one: ${bad.join(', ')}`))
    return false
  }
  return entries
}

function parseRouting (raw: string | undefined, problems: string[]): Record<TargetType, ProviderId[]> {
  const routing = { ...DEFAULT_ROUTING }
  if (raw === undefined) return routing
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw)
  } catch (err) {
    problems.push(`ROUTING_RULES is not valid JSON (or its file cannot be read): ${(err as Error).message}`)
    return routing
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('ROUTING_RULES must be a JSON object of target type → provider list')
    return routing
  }
  for (const [type, list] of Object.entries(parsed)) {
    if (!(TARGET_TYPES as readonly string[]).includes(type)) {
      problems.push(`ROUTING_RULES: unknown target type "${type}" (allowed: ${TARGET_TYPES.join(', ')})`)
      continue
    }
    if (!Array.isArray(list) || list.length === 0 || !list.every(p => typeof p === 'string' && isProviderId(p))) {
      problems.push(`ROUTING_RULES.${type} must be a non-empty list of ${PROVIDER_IDS.join(', ')}`)
      continue
    }
    routing[type as TargetType] = list as ProviderId[]
  }
  return routing
}

function parseWebhooks (get: (name: string) => string | undefined, int: (name: string, def: number, min: number, max: number) => number,
  sandbox: boolean, problems: string[]): WebhookConfig {
  const bool = (name: string, def: boolean): boolean => {
    const raw = get(name)
    if (raw === undefined) return def
    if (!['true', 'false', '1', '0'].includes(raw.toLowerCase())) problems.push(`${name} must be true or false (got "${raw}")`)
    return ['true', '1'].includes(raw.toLowerCase())
  }
  const rawKey = get('WEBHOOK_ENCRYPTION_KEY')
  let encryptionKey = randomBytes(32)
  if (rawKey !== undefined) {
    encryptionKey = /^[0-9a-f]{64}$/i.test(rawKey) ? Buffer.from(rawKey, 'hex') : Buffer.from(rawKey, 'base64')
    if (encryptionKey.length !== 32) problems.push('WEBHOOK_ENCRYPTION_KEY must be 32 bytes: 64 hex digits or base64 (e.g. `openssl rand -base64 32`)')
  }
  const allowPrivate = bool('WEBHOOK_ALLOW_PRIVATE', sandbox)
  if (allowPrivate && !sandbox) problems.push('WEBHOOK_ALLOW_PRIVATE=true is for tests and sandbox mode only: a live gateway never delivers webhooks into private networks')
  const rawSchedule = get('WEBHOOK_RETRY_SCHEDULE')
  const schedule = rawSchedule === undefined ? [...DEFAULT_RETRY_SCHEDULE_MS] : parseSchedule(rawSchedule)
  if (schedule === null) problems.push(`WEBHOOK_RETRY_SCHEDULE must be comma-separated waits such as 0,5s,5m,2h (got "${rawSchedule ?? ''}")`)
  const jitterRaw = get('WEBHOOK_RETRY_JITTER')
  const jitter = jitterRaw === undefined ? 0.2 : Number(jitterRaw)
  if (!(jitter >= 0 && jitter <= 1)) problems.push(`WEBHOOK_RETRY_JITTER must be a number from 0 to 1 (got "${jitterRaw ?? ''}")`)
  return {
    encryptionKey,
    randomKey: rawKey === undefined,
    enabled: rawKey !== undefined || sandbox,
    allowPrivate,
    allowHttp: bool('WEBHOOK_ALLOW_HTTP', sandbox),
    retryScheduleMs: schedule ?? [...DEFAULT_RETRY_SCHEDULE_MS],
    retryJitter: Number.isNaN(jitter) ? 0.2 : jitter,
    disableAfterMs: int('WEBHOOK_DISABLE_AFTER_MS', 432_000_000, 1000, 90 * 86_400_000),
    timeoutMs: int('WEBHOOK_TIMEOUT_MS', 15_000, 100, 60_000),
    maxResponseBytes: int('WEBHOOK_MAX_RESPONSE_BYTES', 4096, 0, 1_048_576),
    endpointConcurrency: int('WEBHOOK_ENDPOINT_CONCURRENCY', 4, 1, 256),
    concurrency: int('WEBHOOK_CONCURRENCY', 32, 1, 1024),
    rotationOverlapMs: int('WEBHOOK_ROTATION_OVERLAP_MS', 86_400_000, 0, 30 * 86_400_000),
    jobLockMs: int('WEBHOOK_JOB_LOCK_MS', 30_000, 1000, 600_000)
  }
}

function parseTargets (get: (name: string) => string | undefined, int: (name: string, def: number, min: number, max: number) => number,
  sandbox: boolean, problems: string[]): TargetsConfig {
  const scope = get('DUPLICATE_SCOPE') ?? 'all'
  if (scope !== 'all' && scope !== 'provider') problems.push(`DUPLICATE_SCOPE must be all or provider (got "${scope}")`)
  const enabledRaw = (get('RDAP_ENABLED') ?? String(sandbox)).toLowerCase()
  if (!['true', 'false', '1', '0'].includes(enabledRaw)) problems.push(`RDAP_ENABLED must be true or false (got "${enabledRaw}")`)
  const baseUrl = get('RDAP_BASE_URL') ?? null
  if (baseUrl !== null && !/^https?:\/\/./.test(baseUrl)) problems.push(`RDAP_BASE_URL must be an http(s) URL (got "${baseUrl}")`)
  return {
    duplicateScope: scope === 'provider' ? 'provider' : 'all',
    rdap: {
      enabled: ['true', '1'].includes(enabledRaw),
      ttlMs: int('RDAP_TTL_MS', 86_400_000, 1000, 90 * 86_400_000),
      errorTtlMs: int('RDAP_ERROR_TTL_MS', 300_000, 0, 86_400_000),
      timeoutMs: int('RDAP_TIMEOUT_MS', 5000, 100, 60_000),
      serverBudget: { limit: int('RDAP_SERVER_BUDGET', 30, 1, 100_000), windowMs: int('RDAP_SERVER_WINDOW_MS', 60_000, 1000, 86_400_000) },
      bootstrapDir: get('RDAP_BOOTSTRAP_DIR') ?? null,
      baseUrl
    }
  }
}
