/** The one place store keys are built. The version segment lets a deploy walk away from old value shapes. */
const PREFIX = 'tgw:v1:'

export const keys = {
  reference: (provider: string, kind: string): string => `${PREFIX}ref:${provider}:${kind}`,
  referenceLock: (provider: string, kind: string): string => `${PREFIX}ref-lock:${provider}:${kind}`,
  idempotency: (client: string, key: string): string => `${PREFIX}idem:${client}:${key}`,
  rateLimit: (scope: string, id: string): string => `${PREFIX}rl:${scope}:${id}`,
  /** outbound budget counter of one vendor credential (a hash, never the credential) for one fixed window */
  outboundBudget: (credentialHash: string, window: number): string => `${PREFIX}ob:${credentialHash}:${window}`,
  /** prefix of the inbound rate-limit counters per gateway key (@fastify/rate-limit appends the key name) */
  inboundRateLimit: (): string => `${PREFIX}rl:in:`,
  /** the case a detection became (issue 9): detection id → case id */
  detectionCase: (detectionId: string): string => `${PREFIX}det-case:${detectionId}`
}

/**
 * The event log's keys (issue 13). One hash tag, `{ev}`, puts them all in one Cluster slot: the observe script
 * touches a snapshot, the log and a timeline at once. Built without ioredis `keyPrefix` (XREAD's keys would miss it):
 * the event store prepends REDIS_KEY_PREFIX itself.
 */
export const eventKeys = (prefix: string): {
  log: string,
  open: string,
  counts: string,
  checkpoints: string,
  snapshot: (caseId: string) => string,
  timeline: (caseId: string) => string
} => ({
  log: `${prefix}${PREFIX}{ev}:log`,
  open: `${prefix}${PREFIX}{ev}:open`,
  counts: `${prefix}${PREFIX}{ev}:snapshots`,
  checkpoints: `${prefix}${PREFIX}{ev}:checkpoints`,
  snapshot: (caseId) => `${prefix}${PREFIX}{ev}:snap:${caseId}`,
  timeline: (caseId) => `${prefix}${PREFIX}{ev}:tl:${caseId}`
})

/** vendor webhooks: delivery ids seen (deduplication) and signing secrets the gateway got when it registered itself */
export const inboundKeys = {
  delivery: (provider: string, deliveryId: string): string => `${PREFIX}in-delivery:${provider}:${deliveryId}`,
  secrets: (provider: string): string => `${PREFIX}in-secrets:${provider}`
}
