/**
 * The parts of Kubernetes objects floe reads, as the API server returns them (core/v1 Pod,
 * Service, Node, Namespace; discovery.k8s.io/v1 EndpointSlice; networking.k8s.io/v1
 * NetworkPolicy; meta/v1 PartialObjectMetadata). Shapes follow the Kubernetes API reference
 * (https://kubernetes.io/docs/reference/kubernetes-api/); fields floe does not read are left out.
 * Times may be RFC 3339 text (JSON, watch events, YAML fixtures) or `Date` (@kubernetes/client-node
 * deserialises list responses), see {@link timeMs}.
 */

/** meta/v1 OwnerReference. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

/** meta/v1 ObjectMeta (the fields floe reads). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
}

/** Any object with metadata (and PartialObjectMetadata). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** core/v1 ContainerPort. */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** core/v1 Pod. */
export interface Pod extends KubeObject {
  spec?: { nodeName?: string; hostNetwork?: boolean; containers?: Array<{ name?: string; ports?: ContainerPort[] }> };
  status?: { podIP?: string; podIPs?: Array<{ ip: string }>; startTime?: string | Date; phase?: string };
}

/** core/v1 ServicePort. */
export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

/** core/v1 Service. */
export interface Service extends KubeObject {
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[]; selector?: Record<string, string> };
}

/** core/v1 Node. */
export interface Node extends KubeObject {
  status?: { addresses?: Array<{ type: string; address: string }> };
}

/** core/v1 Namespace. */
export type Namespace = KubeObject;

/** discovery.k8s.io/v1 EndpointSlice. */
export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: Array<{ addresses: string[]; targetRef?: { kind?: string; name?: string; namespace?: string }; nodeName?: string; zone?: string }>;
}

/** meta/v1 LabelSelectorRequirement. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

/** meta/v1 LabelSelector: `{}` selects everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** networking.k8s.io/v1 IPBlock. */
export interface IPBlock {
  cidr: string;
  except?: string[];
}

/** networking.k8s.io/v1 NetworkPolicyPeer. */
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

/** networking.k8s.io/v1 NetworkPolicyPort: `port` a number or a named container port; `endPort` makes a range. */
export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

/** networking.k8s.io/v1 NetworkPolicy. */
export interface NetworkPolicy extends KubeObject {
  spec?: {
    podSelector?: LabelSelector;
    policyTypes?: Array<'Ingress' | 'Egress' | string>;
    ingress?: Array<{ from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>;
    egress?: Array<{ to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>;
  };
}

/** A time of an object (RFC 3339 text or Date) in ms since epoch; undefined when absent or unreadable. */
export function timeMs(t: string | Date | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The addresses of a pod: `status.podIPs`, else `status.podIP`. */
export function podIps(p: Pod): string[] {
  const list = p.status?.podIPs?.map((x) => x.ip).filter((x) => typeof x === 'string' && x !== '');
  if (list && list.length > 0) return list;
  return p.status?.podIP ? [p.status.podIP] : [];
}

/** `namespace/name` of an object. */
export function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
