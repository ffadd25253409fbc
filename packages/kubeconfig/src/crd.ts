/**
 * The CustomResourceDefinitions of floe's configuration (apiextensions.k8s.io/v1):
 * FloePolicy (the policy document) and FloeNeverBlock (CIDRs never blocked), group floe.dev,
 * version v1alpha1, namespaced, with a status subresource that the processor writes.
 * deploy/k8s/crd-*.yaml are these objects as YAML (`npm run -w @floe/kube-config gen-crds`; a
 * test keeps them equal).
 */
import { floeNeverBlockSpecSchema, floePolicySpecSchema, type OpenApiSchema } from './schema.js';

/** API group of floe's custom resources. */
export const FLOE_GROUP = 'floe.dev';
/** Their one served and stored version. */
export const FLOE_VERSION = 'v1alpha1';

/** Names of one kind (CustomResourceDefinition `spec.names`). */
export interface CrdNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
}

export const FLOE_POLICY: CrdNames = {
  kind: 'FloePolicy',
  listKind: 'FloePolicyList',
  plural: 'floepolicies',
  singular: 'floepolicy',
  shortNames: ['fpol'],
  categories: ['floe'],
};

export const FLOE_NEVER_BLOCK: CrdNames = {
  kind: 'FloeNeverBlock',
  listKind: 'FloeNeverBlockList',
  plural: 'floeneverblocks',
  singular: 'floeneverblock',
  shortNames: ['fnb'],
  categories: ['floe'],
};

/** Phase written to `status.phase`. */
export type FloeResourcePhase = 'Active' | 'Refused' | 'Ignored';

/** One validation error in `status.errors` (a PolicyIssue of @floe/policy, field path under `spec`). */
export interface FloeStatusError {
  /** Field path such as `spec.networks.pods[1]` (`spec` for the whole document). */
  field: string;
  message: string;
  /** FLOE_POLICY_* issue code. */
  code: string;
}

/**
 * `status` of both kinds, written by the processor (merge patch on the status subresource).
 * Times are RFC 3339 strings.
 */
export interface FloeResourceStatus {
  /** metadata.generation this status is about. */
  observedGeneration: number;
  phase: FloeResourcePhase;
  /** One line for people: what is active, or why the change was refused. */
  message: string;
  /** Validation errors of the observed generation (Refused); [] otherwise. */
  errors: FloeStatusError[];
  /** FloePolicy: version (12 hex, the compiled policy's; findings carry `policy:<version>`) of the policy active now. */
  activeVersion?: string;
  /** resourceVersion of this object that is active now (a refused change leaves the earlier one). */
  activeResourceVersion?: string;
  /** metadata.generation that is active now. */
  activeGeneration?: number;
  /** When the processor last changed this status. */
  updatedAt: string;
}

const statusSchema: OpenApiSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', description: 'metadata.generation this status is about.' },
    phase: { type: 'string', enum: ['Active', 'Refused', 'Ignored'] },
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message', 'code'], properties: { field: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } } },
    },
    activeVersion: { type: 'string', description: 'Version of the active floe policy (findings carry policy:<version>).' },
    activeResourceVersion: { type: 'string', description: 'resourceVersion of this object that is active (a refused edit leaves the earlier one active).' },
    activeGeneration: { type: 'integer' },
    updatedAt: { type: 'string', description: 'RFC 3339 time of the last status change.' },
  },
};

/** A CustomResourceDefinition object (apiextensions.k8s.io/v1), as applied. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced';
    names: CrdNames;
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string; description?: string }>;
      schema: { openAPIV3Schema: OpenApiSchema };
    }>;
  };
}

function crd(
  names: CrdNames,
  spec: OpenApiSchema,
  description: string,
  columns: CustomResourceDefinition['spec']['versions'][number]['additionalPrinterColumns'],
): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${FLOE_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'floe' } },
    spec: {
      group: FLOE_GROUP,
      scope: 'Namespaced',
      names,
      versions: [
        {
          name: FLOE_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            ...columns,
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}

/** The FloePolicy CRD: `spec` is a floe policy document; the processor applies the one it is configured to watch. */
export function floePolicyCrd(): CustomResourceDefinition {
  return crd(
    FLOE_POLICY,
    floePolicySpecSchema(),
    'floe policy (packages/policy, version 1) applied by the floe processor; status says which generation is active or why a change was refused.',
    [
      { name: 'Active', type: 'string', jsonPath: '.status.activeVersion', description: 'Active floe policy version' },
      { name: 'Message', type: 'string', jsonPath: '.status.message', description: 'What is active or why refused' },
    ],
  );
}

/** The FloeNeverBlock CRD: CIDRs merged into the responder's protected set (they always win). */
export function floeNeverBlockCrd(): CustomResourceDefinition {
  return crd(FLOE_NEVER_BLOCK, floeNeverBlockSpecSchema(), 'CIDRs the floe responder never blocks (merged into respond.neverBlock, always winning).', [
    { name: 'CIDRs', type: 'string', jsonPath: '.spec.cidrs', description: 'Protected CIDRs' },
  ]);
}
