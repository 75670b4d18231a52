import type { StatusTable } from '../../status/table.js'

// PLACEHOLDER: replaced by the phishfort connector work
export const phishfortStatusTable: StatusTable = { kind: 'lookup', entries: {} }
