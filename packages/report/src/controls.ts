/**
 * The controls a floe compliance report maps its flow evidence to. Titles are short paraphrases;
 * the `source` of each names the published document (docs/compliance-reports.md has the table).
 */

/** A framework a control belongs to. */
export type Framework = 'PCI DSS v4.0' | 'NIST SP 800-53 Rev. 5' | 'CIS Kubernetes Benchmark';

/** One control of the catalogue. */
export interface Control {
  framework: Framework;
  /** The framework's own id: `1.3.1`, `SC-7(5)`, `5.3.2`. */
  id: string;
  title: string;
  /** The published text this id and title come from. */
  source: string;
  /** Keys of Report.figures that are evidence for it. */
  figures: readonly string[];
  /** What flow records can show about it, and what they cannot. */
  limits: string;
}

const PCI = 'PCI DSS v4.0, Requirement 1 (PCI Security Standards Council, March 2022), https://docs-prv.pcisecuritystandards.org/PCI%20DSS/Standard/PCI-DSS-v4_0.pdf';
const NIST = 'NIST SP 800-53 Rev. 5 (September 2020, updated December 2020), https://doi.org/10.6028/NIST.SP.800-53r5';
const CIS = 'CIS Kubernetes Benchmark v1.9.0, section 5.3 Network Policies and CNI (Center for Internet Security), https://www.cisecurity.org/benchmark/kubernetes';

/** Every control the report evaluates, in report order. */
export const CONTROLS: readonly Control[] = Object.freeze([
  {
    framework: 'PCI DSS v4.0',
    id: '1.2.5',
    title: 'All services, protocols and ports allowed are identified, approved, and have a defined business need',
    source: PCI,
    figures: ['flows.inbound', 'flows.inbound_not_allowed', 'flows.control_plane_ports_outside', 'flows.etcd_outside'],
    limits:
      'Flows show which ports were used against the allowed set of the policy; whether the allowed set is approved and has a business need is a matter of record outside floe.',
  },
  {
    framework: 'PCI DSS v4.0',
    id: '1.3.1',
    title: 'Inbound traffic to the CDE is restricted to only that which is necessary; all other traffic is specifically denied',
    source: PCI,
    figures: ['flows.inbound', 'flows.inbound_not_allowed'],
    limits:
      'Counts inbound flows to ports the policy does not allow; an attempt that a firewall dropped is still counted (flows are seen before or regardless of the verdict unless the source says so).',
  },
  {
    framework: 'PCI DSS v4.0',
    id: '1.3.2',
    title: 'Outbound traffic from the CDE is restricted to only that which is necessary; all other traffic is specifically denied',
    source: PCI,
    figures: ['flows.outbound', 'flows.egress_not_allowed', 'flows.metadata_api'],
    limits: 'Judged only when the policy has an egress allow-list; without one, outbound flows are listed but not judged.',
  },
  {
    framework: 'PCI DSS v4.0',
    id: '1.4.2',
    title: 'Inbound traffic from untrusted networks to trusted networks is restricted',
    source: PCI,
    figures: ['flows.inbound', 'flows.inbound_not_allowed'],
    limits:
      "Trusted = the policy's networks (pods, services, nodes, control plane, named zones); untrusted = every other address. Stateful replies are part of the flow that started them.",
  },
  {
    framework: 'NIST SP 800-53 Rev. 5',
    id: 'SC-7',
    title: 'Boundary protection: monitor and control communications at external and key internal managed interfaces',
    source: NIST,
    figures: ['flows.total', 'flows.inbound', 'flows.outbound', 'flows.zone_crossings', 'gaps.records'],
    limits: 'Shows that the boundary was monitored (flow records and their completeness) and what crossed it; the devices that control it are outside floe.',
  },
  {
    framework: 'NIST SP 800-53 Rev. 5',
    id: 'SC-7(5)',
    title: 'Deny by default, allow by exception',
    source: NIST,
    figures: ['flows.inbound_not_allowed', 'flows.egress_not_allowed', 'blocks.total', 'findings.blocked'],
    limits:
      'Flows to ports or destinations outside the allowed sets show traffic that a deny-by-default boundary would have refused; whether it was refused shows only where the source records a verdict.',
  },
  {
    framework: 'NIST SP 800-53 Rev. 5',
    id: 'AC-4',
    title: 'Information flow enforcement between namespaces, zones and connected systems',
    source: NIST,
    figures: ['flows.namespace_boundary', 'flows.zone_crossings', 'flows.metadata_api_violations', 'flows.etcd_outside', 'findings.total', 'blocks.total'],
    limits: 'Namespace boundaries are judged only for flows whose both ends carry a namespace (enrichment or inventory).',
  },
  {
    framework: 'CIS Kubernetes Benchmark',
    id: '5.3.1',
    title: 'Ensure that the CNI in use supports NetworkPolicies',
    source: CIS,
    figures: ['flows.namespace_boundary'],
    limits:
      'Flow records cannot show which CNI runs or whether it enforces NetworkPolicies; flows across namespace boundaries the policy forbids are a sign that nothing enforced them. Check the CNI itself.',
  },
  {
    framework: 'CIS Kubernetes Benchmark',
    id: '5.3.2',
    title: 'Ensure that all namespaces have NetworkPolicies defined',
    source: CIS,
    figures: ['flows.namespace_boundary', 'namespaces.seen'],
    limits: 'Flow records cannot list the NetworkPolicy objects of a namespace (ask the API server); the report lists the namespaces seen in flows and their boundary violations.',
  },
]);
