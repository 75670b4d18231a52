/**
 * The gateway's own settings, one group per feature (a provider's settings come from its module: ./providers.ts).
 * Adding a setting is one entry here (ADR 0039); config.ts then reads it into `Config`.
 */
import { DEFAULT_RETRY_SCHEDULE_MS } from '../domain/retry-schedule.js'
import { DEFAULT_RULES, SANDBOX_RULES } from './routing.js'
import { NO_SLA_POLICY, SANDBOX_SLA_POLICY } from '../domain/sla-policy.js'
import { custom, parseApiKeys, parseDnsServers, parseHttpUrl, parseReadableFile, parseOneWait, parseProxyUrl, parseHost, parseKey32, parseOrigins, parseRetrySchedule, parseRouting, parseShare, parseSlaPolicyFile, showSlaPolicy, parseTrustProxy, showRouting, showSchedule, SCOPES } from './parsers.js'
import { bool, declare, int, oneOf, parseBool, redisUrl, text } from './setting.js'

const DAY_MS = 86_400_000
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const SERVER = declare('server', {
  PORT: int({ default: 3000, min: 0, max: 65535, description: 'listen port' }),
  HOST: custom(parseHost, { default: { sandbox: '127.0.0.1', live: '0.0.0.0' }, description: 'listen address: an IP address or a host name of this machine' }),
  SANDBOX: custom(parseBool, { unset: 'true when no provider has credentials', deploy: true, description: 'true: every provider is served by the built-in simulators; false: never' }),
  LOG_LEVEL: oneOf(LOG_LEVELS, { default: 'info', description: `pino level: ${LOG_LEVELS.join(', ')}` }),
  SHUTDOWN_DELAY_MS: int({ default: 0, min: 0, max: 120_000, description: 'on SIGTERM, how long /readyz answers 503 while requests are still served before the gateway stops accepting connections and drains (e.g. 5000 behind a load balancer that polls /readyz)' }),
  MAX_EVENT_LOOP_DELAY_MS: int({ default: 1000, min: 0, max: 60_000, description: 'event-loop delay above which the gateway sheds load with 503; 0 = off' }),
  CORS_ORIGINS: custom(parseOrigins, { unset: 'CORS off', description: 'browser origins allowed to call the API, comma-separated (e.g. https://soc.acme.example,http://localhost:5173), or * for any' })
})

export const REDIS = declare('redis', {
  REDIS_URL: redisUrl({ unset: 'in-process memory', description: 'Redis for the shared cache, idempotency records and rate limits (redis:// or rediss://)' }),
  REDIS_SENTINELS: text({ unset: 'not used', description: 'Redis Sentinel instead of REDIS_URL: comma-separated host:port of the sentinels (needs REDIS_SENTINEL_NAME)' }),
  REDIS_SENTINEL_NAME: text({ unset: 'not used', description: 'name of the master the sentinels watch (with REDIS_SENTINELS)' }),
  REDIS_CLUSTER_NODES: text({ unset: 'not used', description: 'Redis Cluster instead of REDIS_URL: comma-separated host:port of some cluster nodes' }),
  REDIS_KEY_PREFIX: text({
    default: '',
    show: () => 'none',
    format: { pattern: /^[\w:.-]{0,64}$/, message: 'must be at most 64 letters, digits, _ : . -' },
    description: 'prefix of every Redis key the gateway writes; replicas of one gateway share it. A sandbox with a random GATEWAY_SECRET or WEBHOOK_ENCRYPTION_KEY adds `sandbox-<run id>:` to it (each run starts over)'
  }),
  STORE_EPOCH_CHECK_MS: int({ default: 10_000, min: 100, max: 3_600_000, description: 'how often each replica checks that Redis still holds the store epoch (it also checks after every reconnect); a missing epoch means Redis lost its data' }),
  STORE_LOSS_DEGRADED_MS: int({ default: 900_000, min: 0, max: 7 * DAY_MS, description: 'after Redis lost its data, how long /readyz answers 200 with status "degraded" and the reason' })
})

export const AUTH = declare('auth', {
  GATEWAY_API_KEYS: custom(parseApiKeys, { secret: true, deploy: true, unset: 'the key `sandbox` in sandbox mode; required otherwise', description: `the gateway's clients: comma-separated name:secret[:scope+scope] (scopes ${SCOPES.join(', ')}); outside sandbox mode each secret is at least 22 characters (128 bits as base64url)` }),
  GATEWAY_SECRET: text({ secret: true, deploy: true, unset: 'random per process in sandbox mode; required otherwise', format: { pattern: /^.{16,}$/, message: 'must be at least 16 characters' }, description: 'signs cursors; every replica needs the same value (at least 16 characters)' }),
  TRUST_PROXY: custom(parseTrustProxy, { unset: 'none: the TCP peer is the client', description: 'the reverse proxies whose X-Forwarded-For gives the client address: a hop count (1 = the nearest), or comma-separated addresses and CIDRs of the proxies (also loopback, linklocal, uniquelocal)' }),
  RATE_LIMIT_MAX: int({ default: 6000, min: 0, max: 10_000_000, description: 'requests per gateway key per window; 0 = off; ops routes are exempt' }),
  RATE_LIMIT_WINDOW_MS: int({ default: 60_000, min: 1000, max: DAY_MS, description: 'window of RATE_LIMIT_MAX' })
})

export const LIMITS = declare('limits', {
  REQUEST_TIMEOUT_MS: int({ default: 30_000, min: 1000, max: 600_000, description: 'deadline for receiving a whole request, headers and body; slower clients get 408 and the connection is closed' }),
  JSON_MAX_DEPTH: int({ default: 32, min: 2, max: 1000, description: 'deepest nesting of objects and arrays a JSON body (or multipart payload) may have; deeper is a 400' }),
  AUTH_FAILURE_MAX: int({ default: 20, min: 0, max: 1_000_000, description: 'failed authentications per client address per window before 429, counted across replicas; 0 = off' }),
  AUTH_FAILURE_WINDOW_MS: int({ default: 60_000, min: 1000, max: DAY_MS, description: 'window of AUTH_FAILURE_MAX' }),
  UPLOAD_MAX_INFLIGHT_BYTES: int({ default: 64 * 1_048_576, min: 10_485_760, max: 4 * 1_073_741_824, description: 'attachment bytes the gateway holds in memory at once across all uploads; an upload beyond it gets 503 with Retry-After' })
})

export const PROVIDER_CALLS = declare('providers', {
  STATUS_MAP_FILE: text({ unset: 'the built-in status tables only', description: 'JSON file adding or overriding provider-status → unified-status entries' }),
  ROUTING_RULES: custom(parseRouting(DEFAULT_RULES, SANDBOX_RULES), { default: { live: DEFAULT_RULES, sandbox: SANDBOX_RULES }, show: showRouting, description: 'JSON object (or @path to a JSON file) mapping target types to providers tried in order when a create names none, e.g. {"url":["<provider>","<provider>"]}, or to {"strategy":"order"|"measured","providers":[...],"also":[...]}: `measured` ranks the listed providers by their measured time to takedown and success rate (ROUTING_WINDOW_DAYS, ROUTING_MIN_SAMPLE, ROUTING_EXPLORE_PERCENT), `order` (the default) keeps the list as written; after the first create succeeds, the same target is also filed at each `also` provider that is on and can take it (companions); the types it names replace the default (the providers\' modules rank the types they take; sandbox mode routes url targets by measured outcome)' }),
  ROUTING_WINDOW_DAYS: int({ default: 30, min: 1, max: 365, description: 'a measured routing rule counts the cases created in this many past days' }),
  ROUTING_MIN_SAMPLE: int({ default: 20, min: 1, max: 100_000, description: 'cases with an outcome (taken down, mitigated, failed or closed) each provider of a measured rule needs in the window before the rule ranks by measurement; short of it the rule keeps its list order' }),
  ROUTING_EXPLORE_PERCENT: int({ default: 10, min: 0, max: 50, description: 'share of the creates a measured rule routes (in percent) sent to a provider other than the best-ranked one, so every provider keeps being measured' }),
  REFERENCE_TTL_MS: int({ default: 3_600_000, min: 1000, max: 7 * DAY_MS, description: 'how long reference data is fresh' }),
  REFERENCE_STALE_MS: int({ default: DAY_MS, min: 0, max: 30 * DAY_MS, description: 'how long stale reference data may still be served while refreshing or when the vendor fails' }),
  CIRCUIT_FAILURE_THRESHOLD: int({ default: 5, min: 1, max: 1000, description: 'consecutive provider failures (unavailable, timeout, protocol) that open its circuit' }),
  CIRCUIT_HALF_OPEN_AFTER_MS: int({ default: 10_000, min: 10, max: 3_600_000, description: 'how long an open circuit fails fast before one trial call' })
})

export const WEBHOOKS = declare('webhooks', {
  WEBHOOK_ENCRYPTION_KEY: custom(parseKey32, { secret: true, deploy: true, unset: 'random per process in sandbox mode; otherwise outbound webhooks and vendor webhook registration are off, their routes answering 503', description: 'AES-256-GCM key sealing webhook endpoint secrets and registered vendor webhook secrets at rest: 32 bytes as 64 hex digits or base64; the same on every replica' }),
  WEBHOOK_ALLOW_PRIVATE: bool({ default: { sandbox: true, live: false }, description: 'true: webhook URLs may reach loopback, private, link-local and CGNAT addresses (tests and sandbox only; refused in live mode)' }),
  WEBHOOK_ALLOW_HTTP: bool({ default: { sandbox: true, live: false }, description: 'true: webhook URLs may use http://' }),
  WEBHOOK_RETRY_SCHEDULE: custom(parseRetrySchedule, { default: { value: [...DEFAULT_RETRY_SCHEDULE_MS] }, show: showSchedule, description: 'waits before each delivery attempt, comma-separated, units ms/s/m/h' }),
  WEBHOOK_RETRY_JITTER: custom(parseShare, { default: { value: 0.2 }, description: 'share (0-1) by which each retry wait is stretched at random' }),
  WEBHOOK_DISABLE_AFTER_MS: int({ default: 5 * DAY_MS, min: 1000, max: 90 * DAY_MS, description: 'an endpoint failing this long without a success is disabled' }),
  WEBHOOK_TIMEOUT_MS: int({ default: 15_000, min: 100, max: 60_000, description: 'deadline of one delivery attempt' }),
  WEBHOOK_MAX_RESPONSE_BYTES: int({ default: 4096, min: 0, max: 1_048_576, description: 'bytes of a receiver\'s answer read and kept' }),
  WEBHOOK_ENDPOINT_CONCURRENCY: int({ default: 4, min: 1, max: 256, description: 'deliveries to one endpoint in flight at once per replica' }),
  WEBHOOK_CONCURRENCY: int({ default: 32, min: 1, max: 1024, description: 'delivery jobs one replica runs at once' }),
  WEBHOOK_JOB_LOCK_MS: int({ default: 30_000, min: 1000, max: 600_000, description: 'how long a delivery job stays with the replica running it; after a crash another replica takes it over once this runs out' }),
  WEBHOOK_ROTATION_OVERLAP_MS: int({ default: DAY_MS, min: 0, max: 30 * DAY_MS, description: 'default time a rotated-out secret keeps signing next to the new one' })
})

export const EVENTS = declare('events', {
  EVENTS_REDIS_URL: redisUrl({ unset: 'REDIS_URL', description: 'a separate Redis for the event log and case snapshots; the gateway refuses to start when its maxmemory-policy is not noeviction' }),
  EVENTS_RETENTION_DAYS: int({ default: 30, min: 1, max: 3650, description: 'how long GET /v1/events and the stream can resume from an event id; older ids get 410' }),
  EVENTS_TIMELINE_RETENTION_DAYS: int({ default: 365, min: 1, max: 3650, description: 'how long a case timeline keeps events after the case\'s last change (at least EVENTS_RETENTION_DAYS)' }),
  EVENTS_STREAM_HEARTBEAT_MS: int({ default: 15_000, min: 100, max: 300_000, description: 'a `: keep-alive` comment goes to every GET /v1/events/stream client this often, so proxies keep idle streams open' }),
  WATCH_ENABLED: bool({ default: true, description: 'false: no scheduled vendor syncs (events then come only from reads, writes and webhooks)' }),
  WATCH_LOOKBACK_DAYS: int({ default: 90, min: 1, max: 3650, description: 'each sync reads every case created in this many days and, of older ones, those open now' }),
  WATCH_OLD_CASES_INTERVAL_MS: int({ default: 3_600_000, min: 1000, max: 7 * DAY_MS, description: 'cadence of the re-read of open cases older than the look-back window' }),
  WATCH_OLD_CASES_BATCH: int({ default: 50, min: 1, max: 10_000, description: 'old open cases re-read per tick' }),
  WATCH_BUDGET_SHARE_PERCENT: int({ default: 20, min: 1, max: 100, description: 'percent of a vendor\'s outbound budget the watcher may use (vendors without a budget are not limited)' }),
  SANDBOX_SPEED: int({ default: 1, min: 1, max: 100_000, description: 'sandbox only: how many times faster than real time the simulators move their cases along (e.g. 600 = an hour in 6 s): waits are shorter, every time they report stays on the wall clock; above 1, new cases also arrive at the simulators every 30 s' })
})

export const BATCHES = declare('batches', {
  BATCH_MAX_ITEMS: int({ default: 1000, min: 1, max: 100_000, description: 'most items one POST /v1/batches may hold' }),
  BATCH_RETENTION_DAYS: int({ default: 30, min: 1, max: 3650, description: 'how long batches and their item outcomes are kept' }),
  BATCH_CONCURRENCY: int({ default: 4, min: 1, max: 256, description: 'batch items one replica works on at once' }),
  BATCH_BUDGET_SHARE: int({ default: 50, min: 1, max: 100, description: 'percent of each vendor outbound budget batch work may use; the rest stays for interactive requests' }),
  BATCH_ITEM_CLAIM_MS: int({ default: 60_000, min: 2000, max: 3_600_000, description: 'how long a batch item stays claimed by a replica that died before another may take it; one item create must finish in half of it' }),
  BATCH_ITEM_ATTEMPTS: int({ default: 8, min: 1, max: 100, description: 'attempts per batch item through passing vendor faults (connection lost, timeout, 5xx, 429) before the item is failed' })
})

export const VERIFY = declare('verification', {
  VERIFY_ENABLED: bool({ default: { sandbox: true, live: false }, description: 'true: the gateway probes every case\'s target itself (url, domain, ipv4) and confirms takedowns' }),
  VERIFY_DNS_SERVERS: custom(parseDnsServers, { unset: 'the host\'s resolver configuration', description: 'comma-separated IP addresses of the DNS servers probes ask, each with an optional port (127.0.0.1:5353, [::1]:5353)' }),
  VERIFY_TIMEOUT_MS: int({ default: 10_000, min: 500, max: 60_000, description: 'deadline of one probe, DNS, redirects and body included' }),
  VERIFY_USER_AGENT: text({ default: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', show: () => 'a current desktop browser\'s', format: { pattern: /^[\x20-\x7e]{8,512}$/, message: 'must be 8 to 512 printable ASCII characters' }, description: 'User-Agent of probes' }),
  VERIFY_PROXY_URL: custom(parseProxyUrl, { unset: 'none: probes go out directly', description: 'http(s) proxy every probe leaves through, so probes do not come from the company network' }),
  VERIFY_SIGNATURES_FILE: custom(parseReadableFile, { unset: 'the shipped signatures only', description: 'JSON file of extra page signatures (suspension, parking, interstitial pages), added to the shipped ones; each needs an example page it matches' }),
  VERIFY_CONFIRM_PROBES: int({ default: 3, min: 1, max: 50, description: 'consecutive down or blocked probes that confirm a vendor\'s takedown' }),
  VERIFY_CONFIRM_SPACING: custom(parseOneWait, { default: { value: 600_000 }, show: ms => showSchedule([ms]), description: 'wait between confirmation probes: ms, or with a unit such as 10m (at least 1s)' }),
  VERIFY_MONITOR_DAYS: int({ default: 7, min: 1, max: 90, description: 'days a verified takedown is watched for re-emergence before it is stayed_down' }),
  VERIFY_HISTORY_LIMIT: int({ default: 50, min: 1, max: 1000, description: 'probe results (checks) kept per case, newest first; an older one is dropped as a new one is kept' }),
  VERIFY_RETENTION_DAYS: int({ default: 90, min: 1, max: 3650, description: 'days a case\'s verification record and checks are kept after its verification ends (stayed_down, or the vendor closed the case); the analytics outcome rows stay' }),
  VERIFY_ON_REAPPEAR: oneOf(['event', 'reopen', 'resubmit'], { default: 'event', description: 'what a re-emergence does: event, reopen or resubmit' }),
  VERIFY_OPEN_INTERVAL_MS: int({ default: 21_600_000, min: 60_000, max: 7 * DAY_MS, description: 'probe cadence of an open case' }),
  VERIFY_PROBES_PER_MINUTE: int({ default: 120, min: 1, max: 100_000, description: 'probes one replica starts per minute at most' }),
  VERIFY_HOST_PROBES_PER_MINUTE: int({ default: 6, min: 1, max: 10_000, description: 'probes of one target host one replica starts per minute at most' }),
  VERIFY_TICK_MS: int({ default: 15_000, min: 100, max: 3_600_000, description: 'how often each replica looks for due checks' })
})

export const TARGETS = declare('targets', {
  DUPLICATE_SCOPE: oneOf(['all', 'provider'], { default: 'all', description: '`all`: a create is refused (409) when any live provider has an open case for the same canonical target (the chosen one asked, the others from the target index); `provider`: only the chosen provider is checked' }),
  RDAP_ENABLED: bool({ default: { sandbox: true, live: false }, description: 'true: case detail and GET /v1/targets/lookup carry RDAP registrar and hosting facts (in sandbox mode the RDAP simulator answers)' }),
  RDAP_TTL_MS: int({ default: DAY_MS, min: 1000, max: 90 * DAY_MS, description: 'how long an RDAP answer is kept in the store, shared by replicas' }),
  RDAP_ERROR_TTL_MS: int({ default: 300_000, min: 0, max: DAY_MS, description: 'how long a failed RDAP lookup is remembered before it is tried again' }),
  RDAP_TIMEOUT_MS: int({ default: 5000, min: 100, max: 60_000, description: 'per-request timeout for RDAP servers' }),
  RDAP_SERVER_BUDGET: int({ default: 30, min: 1, max: 100_000, description: 'requests per window sent to one RDAP server, shared by replicas' }),
  RDAP_SERVER_WINDOW_MS: int({ default: 60_000, min: 1000, max: DAY_MS, description: 'window of RDAP_SERVER_BUDGET' }),
  RDAP_BOOTSTRAP_DIR: custom(parseReadableFile, { unset: 'the copies shipped in src/features/targets/rdap/bootstrap (npm run rdap:bootstrap refreshes them)', description: 'directory with IANA bootstrap files dns.json, ipv4.json, ipv6.json, asn.json' }),
  RDAP_BASE_URL: custom(parseHttpUrl, { unset: 'the bootstrap\'s servers', description: 'send every RDAP query to this server instead of the bootstrap\'s (a local mirror or a test server; the sandbox needs none: its bootstrap points at its RDAP simulator)' })
})

export const SLA = declare('sla', {
  SLA_POLICY_FILE: custom(parseSlaPolicyFile, {
    default: { sandbox: SANDBOX_SLA_POLICY, live: NO_SLA_POLICY },
    show: showSlaPolicy,
    description: 'JSON file of service-level rules {"rules":[{"id","match":{"provider","targetType","threatClass","brand"},"firstActionWithin","downWithin","warnBefore","escalateAfter","failoverAfter","cancelOriginal","dryRun"}]}: the first rule that matches a case applies; ISO 8601 durations (PT24H, P2D) of calendar time (no business hours); `none` = no service levels. A typo stops the start'
  }),
  SLA_TICK_MS: int({ default: 5000, min: 100, max: 3_600_000, description: 'how often each replica looks for due service-level steps' }),
  SLA_LEASE_MS: int({ default: 60_000, min: 1000, max: 3_600_000, description: 'how long a replica holds a service-level step it acts on (renewed while the step runs); a replica that dies mid-step leaves the step to another once its lease runs out' })
})
