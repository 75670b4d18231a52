/** The one place store keys are built. The version segment lets a deploy walk away from old value shapes. */
const PREFIX = 'tgw:v1:'

export const keys = {
  reference: (provider: string, kind: string): string => `${PREFIX}ref:${provider}:${kind}`,
  referenceLock: (provider: string, kind: string): string => `${PREFIX}ref-lock:${provider}:${kind}`,
  idempotency: (client: string, key: string): string => `${PREFIX}idem:${client}:${key}`,
  /** the store epoch (written at first start, never expires; gone = the store lost its data) */
  epoch: (): string => `${PREFIX}epoch`,
  rateLimit: (scope: string, id: string): string => `${PREFIX}rl:${scope}:${id}`,
  /** outbound budget counter of one vendor credential (a hash, never the credential) for one fixed window */
  outboundBudget: (credentialHash: string, window: number): string => `${PREFIX}ob:${credentialHash}:${window}`,
  /** prefix of the inbound rate-limit counters per gateway key (@fastify/rate-limit appends the key name) */
  inboundRateLimit: (): string => `${PREFIX}rl:in:`,
  /** a connector's own records, under a namespace its provider module declares (`storeNamespaces`) */
  vendor: (namespace: string, rest: string): string => `${PREFIX}${namespace}:${rest}`,
  /** the case a detection became detection id → case id */
  detectionCase: (detectionId: string): string => `${PREFIX}det-case:${detectionId}`,
  /** analytics milestones (ADR 0020): case id → slot, and the rows string, of one `<provider>:<YYYY-MM>` shard (one cluster slot) */
  milestoneSlots: (shard: string): string => `${PREFIX}ms:{${shard}}:slots`,
  milestoneRows: (shard: string): string => `${PREFIX}ms:{${shard}}:rows`,
  /** the set of milestone shard names */
  milestoneShards: (): string => `${PREFIX}ms:shards`,
  /** public suffix id → suffix, for analytics grouped by tld */
  milestoneTlds: (): string => `${PREFIX}ms:tlds`,
  /** case id → its registrar and hosting network (RDAP), for analytics grouped by them */
  caseEnrichment: (): string => `${PREFIX}ms:enrichment`,
  /**
   * a bulk submission and its per-item records; the `{id}` hash tag keeps one batch in one Cluster slot,
   * so its items can be read with one MGET. `part`: `item:<i>`, `claim:<i>`, `sent:<i>`, `done`, `cancel`, `completed`
   */
  batch: (id: string, part?: string): string => `${PREFIX}batch:{${id}}${part === undefined ? '' : `:${part}`}`,
  /** the batches a gateway key submitted: `seq` counts them, `<n>` holds the id of its n-th (one key, one Cluster slot) */
  batchesOf: (owner: string, part: string): string => `${PREFIX}batches-of:{${owner}}:${part}`,
  /** target index: the case ids seen with a host / a registrable domain (sets), and a case's summary (string) */
  targetsByHost: (host: string): string => `${PREFIX}tgt:host:${host}`,
  targetsByDomain: (domain: string): string => `${PREFIX}tgt:rd:${domain}`,
  targetCase: (caseId: string): string => `${PREFIX}tgt:case:${caseId}`,
  /** an RDAP answer (or the failure) for one query kind and key, shared by replicas */
  rdap: (kind: string, key: string): string => `${PREFIX}rdap:${kind}:${key}`,
  /** the requests sent to one RDAP server in one window (the per-server budget) */
  rdapBudget: (server: string, window: number): string => `${PREFIX}rdap-budget:${server}:${window}`,
  /** a server's Retry-After: no request to it before this time (epoch ms) */
  rdapBackoff: (server: string): string => `${PREFIX}rdap-backoff:${server}`
}

/**
 * The event log's keys (case change events). One hash tag, `{ev}`, puts them all in one Cluster slot: the observe script
 * touches a snapshot, the log and a timeline at once. Built without ioredis `keyPrefix` (XREAD's keys would miss it):
 * the event store prepends REDIS_KEY_PREFIX itself.
 */
export const eventKeys = (prefix: string): {
  log: string,
  open: string,
  counts: string,
  expiring: string,
  checkpoints: string,
  epoch: string,
  snapshot: (caseId: string) => string,
  timeline: (caseId: string) => string,
  line: (caseId: string) => string,
  once: (key: string) => string
} => ({
  log: `${prefix}${PREFIX}{ev}:log`,
  open: `${prefix}${PREFIX}{ev}:open`,
  counts: `${prefix}${PREFIX}{ev}:snapshots`,
  /** terminal snapshots by when they expire, so the counts can drop them */
  expiring: `${prefix}${PREFIX}{ev}:expiring`,
  checkpoints: `${prefix}${PREFIX}{ev}:checkpoints`,
  /** the store epoch as the event log holds it (written at first start, never expires) */
  epoch: `${prefix}${PREFIX}{ev}:epoch`,
  snapshot: (caseId) => `${prefix}${PREFIX}{ev}:snap:${caseId}`,
  /** a case's timeline as first written, a Redis Stream: read until its last entries pass the timeline retention */
  timeline: (caseId) => `${prefix}${PREFIX}{ev}:tl:${caseId}`,
  /** a case's timeline, a list of entries (ADR 0049) */
  line: (caseId) => `${prefix}${PREFIX}{ev}:line:${caseId}`,
  /** the marker of an appended event of the gateway itself (one occurrence, one event) */
  once: (key) => `${prefix}${PREFIX}{ev}:once:${key}`
})

/** vendor webhooks: delivery ids seen (deduplication) and signing secrets the gateway got when it registered itself */
export const inboundKeys = {
  delivery: (provider: string, deliveryId: string): string => `${PREFIX}in-delivery:${provider}:${deliveryId}`,
  secrets: (provider: string): string => `${PREFIX}in-secrets:${provider}`
}
