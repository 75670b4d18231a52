/** Cloudflare's documented static lists (Cloudflare API schema, SubmitAbuseReport, GetAbuseReport, ListMitigations) for GET /v1/reference. */
import { isRemoval } from './status-map.js'
import { ACT_TO_TYPE, MITIGATION_TYPES, REPORT_ACTS } from './wire.js'

interface Item { id: string, name: string, description: string }

const ACT_NAMES: Readonly<Record<string, string>> = {
  abuse_dmca: 'DMCA copyright infringement',
  abuse_trademark: 'Trademark infringement',
  abuse_general: 'General abuse',
  abuse_phishing: 'Phishing',
  abuse_children: 'Child sexual abuse material (CSAM)',
  abuse_threat: 'Violent threat',
  abuse_registrar_whois: 'Registrar WHOIS request',
  abuse_ncsei: 'Non-consensual sexual imagery (NCSEI)'
}

export const REFERENCE: { statuses: Item[], reportTypes: Item[], mitigationTypes: Item[] } = {
  statuses: [
    {
      id: 'in_review',
      name: 'in_review',
      description: 'Cloudflare is reviewing the report. Always in_review.'
    },
    {
      id: 'accepted',
      name: 'accepted',
      description: 'Cloudflare accepted the report. The unified status is computed from its mitigations: an active removal ' +
        'mitigation → taken_down, any active mitigation → mitigated, a pending one → in_progress, one in review → in_review, ' +
        'none of these → closed (shown here).'
    }
  ],
  reportTypes: REPORT_ACTS.map(act => ({
    id: act,
    name: ACT_NAMES[act] ?? act,
    // the act → list `type` mapping is not documented by Cloudflare; abuse_children → EMER is a guess
    description: `Submitted as act ${act}; listed with type ${ACT_TO_TYPE[act]}${act === 'abuse_children' ? ' (inferred)' : ''}`
  })),
  mitigationTypes: MITIGATION_TYPES.map(type => ({
    id: type,
    name: type.replace(/_/g, ' '),
    description: isRemoval(type)
      ? 'Removal: removes or suspends the reported content (an active one makes the case taken_down)'
      : 'Restriction: blocks, warns or limits without removing (an active one makes the case mitigated)'
  }))
}
