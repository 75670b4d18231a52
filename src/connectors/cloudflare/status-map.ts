import type { StatusTable } from '../../status/table.js'

// PLACEHOLDER: replaced by the cloudflare connector work
export const cloudflareStatusTable: StatusTable = { kind: 'lookup', entries: {} }
