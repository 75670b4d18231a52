/**
 * Configuration (README 'Configuration'): the only reader of process.env. The settings, their parsers, defaults and
 * bounds are the configuration table (settings/table.ts, ADR 0039); this file reads them into `Config` and adds the
 * checks between settings. Every problem is collected and reported in one message, so an operator fixes a bad
 * deployment in one go.
 */
import { randomBytes } from 'node:crypto'
import type { TargetType } from './schemas/common.js'
import type { BatchSettings } from './schemas/batch.js'
import { PROVIDER_IDS, type ProviderId } from './schemas/provider.js'
import type { StatusOverrides } from './status/engine.js'
import { loadStatusOverrides } from './status/overrides.js'
import type { ProviderConfig } from './providers/build.js'
import { PROVIDERS } from './providers/registry.js'
import type { RedisTarget } from './store/redis-kv-store.js'
import { AUTH, BATCHES, EVENTS, LIMITS, PROVIDER_CALLS, REDIS, SERVER, SLA, TARGETS, VERIFY, WEBHOOKS } from './settings/gateway.js'
import type { SlaPolicy } from './domain/sla-policy.js'
import { type ApiKey, parseHostPorts } from './settings/parsers.js'
import type { MeasuredRouting } from './services/routing.js'
import { readSetting, type Setting, type WithDefault } from './settings/setting.js'
import { PROVIDER_SETTINGS, SETTINGS } from './settings/table.js'

export { type ApiKey, MIN_KEY_LENGTH, parseHostPorts, type Scope, SCOPES } from './settings/parsers.js'
export { DEFAULT_ROUTING } from './settings/routing.js'

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
  /** per target type, the providers that also get a routed create's target (ROUTING_RULES `also`) */
  companions?: Record<TargetType, ProviderId[]>
  /** routing by measured outcome: per target type its strategy (ROUTING_RULES), and how a measured rule measures */
  measuredRouting: MeasuredRouting
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
  /** case change events: the event log and the watcher */
  events: EventsConfig
  /** verified outcomes: the gateway probes targets itself (README 'Verified outcomes') */
  verify: VerifyConfig
  /** target intelligence: cross-provider duplicates, the target index, RDAP enrichment */
  targets: TargetsConfig
  /** service levels: the rules of SLA_POLICY_FILE (README 'Service levels') */
  sla: {
    policy: SlaPolicy
    /** how often each replica looks for due steps */
    tickMs: number
    /** how long a replica holds a step it acts on (renewed while it runs) */
    leaseMs: number
  }
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

export interface VerifyConfig {
  enabled: boolean
  /** DNS servers probes ask (empty: the host's resolver configuration) */
  dnsServers: string[]
  timeoutMs: number
  userAgent: string
  proxyUrl: string | null
  signaturesFile: string | null
  confirmProbes: number
  confirmSpacingMs: number
  monitorDays: number
  /** checks kept per case (VERIFY_HISTORY_LIMIT) */
  historyLimit: number
  /** days a case's record and checks are kept once its verification ended (VERIFY_RETENTION_DAYS) */
  retentionDays: number
  onReappear: 'event' | 'reopen' | 'resubmit'
  openIntervalMs: number
  probesPerMinute: number
  hostProbesPerMinute: number
  tickMs: number
}

export interface WebhookConfig {
  /** AES-256-GCM key sealing endpoint secrets (and registered vendor webhook secrets) at rest */
  encryptionKey: Buffer
  /** true when WEBHOOK_ENCRYPTION_KEY was unset and a random key was drawn (sandbox only) */
  randomKey: boolean
  /** false outside sandbox mode without WEBHOOK_ENCRYPTION_KEY: the endpoints API and vendor webhook registration answer 503 naming the variable */
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
  /** sandbox simulators' clock speed (1 = real time) */
  sandboxSpeed: number
}

export interface Limits {
  requestTimeoutMs: number
  jsonMaxDepth: number
  authFailures: { max: number, windowMs: number }
  uploadMaxInflightBytes: number
}

/** Every variable the gateway reads, with its meaning (the configuration table, settings/table.ts). */
export const ENV_VARS: Readonly<Record<string, string>> = Object.fromEntries(SETTINGS.map(s => [s.name, s.description]))

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

type Env = Record<string, string | undefined>

export function loadConfig (env: Env = process.env): Config {
  const problems: string[] = []
  const isSet = (name: string): boolean => (env[name]?.trim() ?? '') !== ''
  // sandbox mode decides the defaults of several settings: it is read first
  const sandbox = readSetting(SERVER.SANDBOX, env, false, problems) ?? !PROVIDERS.some(m => isSet(m.credential.env))
  function read<T> (s: Setting<T> & WithDefault<T>): T
  function read<T> (s: Setting<T>): T | undefined
  function read<T> (s: Setting<T>): T | undefined { return readSetting(s, env, sandbox, problems) }

  const providers = {} as Record<ProviderId, ProviderConfig>
  for (const id of PROVIDER_IDS) {
    const s = PROVIDER_SETTINGS[id]
    const credential = read(s.credential) ?? null
    const options: Record<string, string> = {}
    for (const o of s.options) {
      const value = read(o.setting)
      if (credential !== null && !sandbox && !isSet(o.setting.name) && o.required) problems.push(`${o.setting.name} is required when ${s.credential.name} is set`)
      if (value !== undefined) options[o.key] = value
    }
    const budget = read(s.budget)
    const budgetWindowMs = read(s.budgetWindowMs)
    providers[id] = {
      id,
      baseUrl: read(s.baseUrl),
      credential,
      timeoutMs: read(s.timeoutMs),
      options,
      maxConcurrency: read(s.maxConcurrency),
      maxQueue: read(s.maxQueue),
      outboundBudget: budget === 0 ? null : { limit: budget, windowMs: budgetWindowMs },
      inboundSecrets: s.inboundSecrets === null ? [] : read(s.inboundSecrets) ?? []
    }
  }

  let apiKeys = read(AUTH.GATEWAY_API_KEYS) ?? []
  let sandboxKey = false
  if (!isSet('GATEWAY_API_KEYS')) {
    if (sandbox) {
      apiKeys = [{ name: 'sandbox', secret: 'sandbox', scopes: new Set(['read', 'write', 'admin'] as const) }]
      sandboxKey = true
    } else {
      problems.push('GATEWAY_API_KEYS is required outside sandbox mode (comma-separated name:secret[:scope+scope])')
    }
  }

  let gatewaySecret = read(AUTH.GATEWAY_SECRET) ?? ''
  const randomSecret = !isSet('GATEWAY_SECRET') && sandbox
  if (randomSecret) gatewaySecret = randomBytes(32).toString('base64url')
  else if (!isSet('GATEWAY_SECRET')) problems.push('GATEWAY_SECRET is required outside sandbox mode (the same value on every replica)')

  const redisUrl = read(REDIS.REDIS_URL) ?? null
  const redis = parseRedis(isSet('REDIS_URL') ? env.REDIS_URL!.trim() : null, read(REDIS.REDIS_SENTINELS), read(REDIS.REDIS_SENTINEL_NAME), read(REDIS.REDIS_CLUSTER_NODES), problems)
  const redisKeyPrefix = read(REDIS.REDIS_KEY_PREFIX)
  const statusMapFile = read(PROVIDER_CALLS.STATUS_MAP_FILE) ?? null
  const routingRules = read(PROVIDER_CALLS.ROUTING_RULES)

  const config: Config = {
    port: read(SERVER.PORT),
    host: read(SERVER.HOST),
    sandbox,
    redisUrl,
    redis,
    redisKeyPrefix,
    storeEpoch: { checkMs: read(REDIS.STORE_EPOCH_CHECK_MS), degradedMs: read(REDIS.STORE_LOSS_DEGRADED_MS) },
    apiKeys,
    trustProxy: read(AUTH.TRUST_PROXY) ?? false,
    sandboxKey,
    gatewaySecret,
    randomSecret,
    logLevel: read(SERVER.LOG_LEVEL),
    statusMapFile,
    statusOverrides: statusMapFile === null ? {} : loadStatusOverrides(statusMapFile, problems),
    providers,
    referenceTtlMs: read(PROVIDER_CALLS.REFERENCE_TTL_MS),
    referenceStaleMs: read(PROVIDER_CALLS.REFERENCE_STALE_MS),
    routing: routingRules.order,
    companions: routingRules.also,
    measuredRouting: {
      strategy: routingRules.strategy,
      windowDays: read(PROVIDER_CALLS.ROUTING_WINDOW_DAYS),
      minSample: read(PROVIDER_CALLS.ROUTING_MIN_SAMPLE),
      explorePercent: read(PROVIDER_CALLS.ROUTING_EXPLORE_PERCENT)
    },
    circuit: { failureThreshold: read(PROVIDER_CALLS.CIRCUIT_FAILURE_THRESHOLD), halfOpenAfterMs: read(PROVIDER_CALLS.CIRCUIT_HALF_OPEN_AFTER_MS) },
    rateLimit: { max: read(AUTH.RATE_LIMIT_MAX), windowMs: read(AUTH.RATE_LIMIT_WINDOW_MS) },
    maxEventLoopDelayMs: read(SERVER.MAX_EVENT_LOOP_DELAY_MS),
    shutdownDelayMs: read(SERVER.SHUTDOWN_DELAY_MS),
    corsOrigins: read(SERVER.CORS_ORIGINS) ?? [],
    limits: {
      requestTimeoutMs: read(LIMITS.REQUEST_TIMEOUT_MS),
      jsonMaxDepth: read(LIMITS.JSON_MAX_DEPTH),
      authFailures: { max: read(LIMITS.AUTH_FAILURE_MAX), windowMs: read(LIMITS.AUTH_FAILURE_WINDOW_MS) },
      uploadMaxInflightBytes: read(LIMITS.UPLOAD_MAX_INFLIGHT_BYTES)
    },
    events: readEvents(read, problems),
    batches: {
      maxItems: read(BATCHES.BATCH_MAX_ITEMS),
      retentionMs: read(BATCHES.BATCH_RETENTION_DAYS) * DAY_MS,
      concurrency: read(BATCHES.BATCH_CONCURRENCY),
      budgetShare: read(BATCHES.BATCH_BUDGET_SHARE) / 100,
      claimMs: read(BATCHES.BATCH_ITEM_CLAIM_MS),
      maxAttempts: read(BATCHES.BATCH_ITEM_ATTEMPTS)
    },
    webhooks: readWebhooks(read, isSet('WEBHOOK_ENCRYPTION_KEY'), sandbox, problems),
    verify: {
      enabled: read(VERIFY.VERIFY_ENABLED),
      dnsServers: read(VERIFY.VERIFY_DNS_SERVERS) ?? [],
      timeoutMs: read(VERIFY.VERIFY_TIMEOUT_MS),
      userAgent: read(VERIFY.VERIFY_USER_AGENT),
      proxyUrl: read(VERIFY.VERIFY_PROXY_URL) ?? null,
      signaturesFile: read(VERIFY.VERIFY_SIGNATURES_FILE) ?? null,
      confirmProbes: read(VERIFY.VERIFY_CONFIRM_PROBES),
      confirmSpacingMs: read(VERIFY.VERIFY_CONFIRM_SPACING),
      monitorDays: read(VERIFY.VERIFY_MONITOR_DAYS),
      historyLimit: read(VERIFY.VERIFY_HISTORY_LIMIT),
      retentionDays: read(VERIFY.VERIFY_RETENTION_DAYS),
      onReappear: read(VERIFY.VERIFY_ON_REAPPEAR),
      openIntervalMs: read(VERIFY.VERIFY_OPEN_INTERVAL_MS),
      probesPerMinute: read(VERIFY.VERIFY_PROBES_PER_MINUTE),
      hostProbesPerMinute: read(VERIFY.VERIFY_HOST_PROBES_PER_MINUTE),
      tickMs: read(VERIFY.VERIFY_TICK_MS)
    },
    targets: {
      duplicateScope: read(TARGETS.DUPLICATE_SCOPE),
      rdap: {
        enabled: read(TARGETS.RDAP_ENABLED),
        ttlMs: read(TARGETS.RDAP_TTL_MS),
        errorTtlMs: read(TARGETS.RDAP_ERROR_TTL_MS),
        timeoutMs: read(TARGETS.RDAP_TIMEOUT_MS),
        serverBudget: { limit: read(TARGETS.RDAP_SERVER_BUDGET), windowMs: read(TARGETS.RDAP_SERVER_WINDOW_MS) },
        bootstrapDir: read(TARGETS.RDAP_BOOTSTRAP_DIR) ?? null,
        baseUrl: read(TARGETS.RDAP_BASE_URL) ?? null
      }
    },
    sla: { policy: read(SLA.SLA_POLICY_FILE), tickMs: read(SLA.SLA_TICK_MS), leaseMs: read(SLA.SLA_LEASE_MS) },
    sandboxRun: null
  }
  if (problems.length > 0) throw new ConfigError(problems)
  if (sandbox && (randomSecret || config.webhooks.randomKey) && (redis !== null || config.events.redisUrl !== null)) {
    config.sandboxRun = randomBytes(4).toString('hex')
    config.redisKeyPrefix = `${redisKeyPrefix}sandbox-${config.sandboxRun}:`
  }
  return config
}

const DAY_MS = 86_400_000

interface Read {
  <T>(s: Setting<T> & WithDefault<T>): T
  <T>(s: Setting<T>): T | undefined
}

function readEvents (read: Read, problems: string[]): EventsConfig {
  const intervals: Partial<Record<ProviderId, number>> = {}
  for (const id of PROVIDER_IDS) {
    const ms = read(PROVIDER_SETTINGS[id].watchIntervalMs)
    if (ms > 0) intervals[id] = Math.max(ms, 1000)
  }
  const retentionMs = read(EVENTS.EVENTS_RETENTION_DAYS) * DAY_MS
  const timelineRetentionMs = read(EVENTS.EVENTS_TIMELINE_RETENTION_DAYS) * DAY_MS
  if (timelineRetentionMs < retentionMs) problems.push('EVENTS_TIMELINE_RETENTION_DAYS must be at least EVENTS_RETENTION_DAYS (timelines are kept longer than the log)')
  return {
    redisUrl: read(EVENTS.EVENTS_REDIS_URL) ?? null,
    retentionMs,
    timelineRetentionMs,
    streamHeartbeatMs: read(EVENTS.EVENTS_STREAM_HEARTBEAT_MS),
    watch: {
      enabled: read(EVENTS.WATCH_ENABLED),
      lookbackMs: read(EVENTS.WATCH_LOOKBACK_DAYS) * DAY_MS,
      intervals,
      oldCaseIntervalMs: read(EVENTS.WATCH_OLD_CASES_INTERVAL_MS),
      oldCaseBatch: read(EVENTS.WATCH_OLD_CASES_BATCH),
      budgetSharePercent: read(EVENTS.WATCH_BUDGET_SHARE_PERCENT)
    },
    sandboxSpeed: read(EVENTS.SANDBOX_SPEED)
  }
}

function readWebhooks (read: Read, keySet: boolean, sandbox: boolean, problems: string[]): WebhookConfig {
  const allowPrivate = read(WEBHOOKS.WEBHOOK_ALLOW_PRIVATE)
  if (allowPrivate && !sandbox) problems.push('WEBHOOK_ALLOW_PRIVATE=true is for tests and sandbox mode only: a live gateway never delivers webhooks into private networks')
  return {
    encryptionKey: read(WEBHOOKS.WEBHOOK_ENCRYPTION_KEY) ?? randomBytes(32),
    randomKey: !keySet,
    enabled: keySet || sandbox,
    allowPrivate,
    allowHttp: read(WEBHOOKS.WEBHOOK_ALLOW_HTTP),
    retryScheduleMs: read(WEBHOOKS.WEBHOOK_RETRY_SCHEDULE),
    retryJitter: read(WEBHOOKS.WEBHOOK_RETRY_JITTER),
    disableAfterMs: read(WEBHOOKS.WEBHOOK_DISABLE_AFTER_MS),
    timeoutMs: read(WEBHOOKS.WEBHOOK_TIMEOUT_MS),
    maxResponseBytes: read(WEBHOOKS.WEBHOOK_MAX_RESPONSE_BYTES),
    endpointConcurrency: read(WEBHOOKS.WEBHOOK_ENDPOINT_CONCURRENCY),
    concurrency: read(WEBHOOKS.WEBHOOK_CONCURRENCY),
    rotationOverlapMs: read(WEBHOOKS.WEBHOOK_ROTATION_OVERLAP_MS),
    jobLockMs: read(WEBHOOKS.WEBHOOK_JOB_LOCK_MS)
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
  if (url !== null) return /^rediss?:\/\/./.test(url) ? { kind: 'url', url } : null
  if (sentinels !== undefined) {
    const list = parseHostPorts('REDIS_SENTINELS', sentinels, problems)
    if (sentinelName === undefined) problems.push('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (the name of the master, e.g. mymaster)')
    return { kind: 'sentinel', sentinels: list, name: sentinelName ?? '' }
  }
  if (clusterNodes !== undefined) return { kind: 'cluster', nodes: parseHostPorts('REDIS_CLUSTER_NODES', clusterNodes, problems) }
  return null
}
