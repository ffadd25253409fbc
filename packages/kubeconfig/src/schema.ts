/**
 * floe's policy schema (@floe/policy `policySchema`, JSON schema draft-07 with floe's custom
 * keywords) turned into a Kubernetes structural OpenAPI v3 schema for a CRD's `spec`.
 *
 * Rules of a structural schema (Kubernetes docs, "Extend the Kubernetes API with
 * CustomResourceDefinitions", section "Specifying a structural schema"): every node has a
 * `type` (or `x-kubernetes-int-or-string`), no `$id`, `const`, `propertyNames`; OpenAPI v3.0's
 * `exclusiveMinimum` is a boolean beside `minimum`. The conversion:
 * - `const: 1` → `type: integer, enum: [1]`;
 * - draft-07 `exclusiveMinimum: x` → `minimum: x, exclusiveMinimum: true`;
 * - `floePort` (a number or "lo-hi") → `x-kubernetes-int-or-string: true`;
 * - `floeCidr`, `floeDuration` → plain strings (floe's validator checks them and reports the field);
 * - `additionalProperties: false` → dropped: the API server prunes and, with field validation
 *   Strict (kubectl's default), refuses unknown fields itself;
 * - `default` → dropped: the resource stays as written (GitOps diffs stay clean) and floe's
 *   validator fills the defaults, exactly as for a policy file;
 * - `propertyNames` → dropped (floe's validator checks zone names).
 */
import { policySchema } from '@floe/policy';

/** A node of a Kubernetes OpenAPI v3 (JSONSchemaProps) schema, as far as floe uses it. */
export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema;
  items?: OpenApiSchema;
  required?: string[];
  enum?: Array<string | number>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

type Json = Record<string, unknown>;

/**
 * Converts one draft-07 node of floe's schemas to a structural OpenAPI v3 node.
 * @throws Error naming the JSON pointer of a keyword this converter does not know (so a new
 *   keyword in @floe/policy's schema fails the CRD test instead of being silently dropped).
 */
export function toStructural(node: Json, at = '#'): OpenApiSchema {
  const out: OpenApiSchema = {};
  for (const [k, v] of Object.entries(node)) {
    switch (k) {
      case 'type':
        out.type = v as OpenApiSchema['type'];
        break;
      case 'const':
        out.type = typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : 'string';
        out.enum = [v as string | number];
        break;
      case 'enum':
        out.enum = [...(v as Array<string | number>)];
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([p, s]) => [p, toStructural(s, `${at}/properties/${p}`)]));
        break;
      case 'additionalProperties':
        if (typeof v === 'object' && v !== null) out.additionalProperties = toStructural(v as Json, `${at}/additionalProperties`);
        break;
      case 'items':
        out.items = toStructural(v as Json, `${at}/items`);
        break;
      case 'required':
        out.required = [...(v as string[])];
        break;
      case 'exclusiveMinimum':
        out.minimum = v as number;
        out.exclusiveMinimum = true;
        break;
      case 'minimum':
      case 'maximum':
      case 'minItems':
      case 'maxItems':
      case 'minProperties':
      case 'maxProperties':
      case 'minLength':
      case 'maxLength':
        out[k] = v as number;
        break;
      case 'pattern':
        out.pattern = v as string;
        break;
      case 'floePort':
        out['x-kubernetes-int-or-string'] = true;
        break;
      case 'floeCidr':
      case 'floeDuration':
        out.type = 'string';
        break;
      case '$id':
      case 'default':
      case 'propertyNames':
        break;
      default:
        throw new Error(`toStructural: unsupported keyword ${k} at ${at}`);
    }
  }
  if (out.type === undefined && out['x-kubernetes-int-or-string'] !== true) throw new Error(`toStructural: no type at ${at}`);
  return out;
}

/** The `spec` schema of a FloePolicy: floe's policy document (version 1), structural. */
export function floePolicySpecSchema(): OpenApiSchema {
  const s = toStructural(policySchema as unknown as Json);
  s.description = 'A floe policy document, version 1 (packages/policy README "File format"); validated again by floe itself.';
  return s;
}

/** The `spec` schema of a FloeNeverBlock: CIDRs the responder never blocks, merged into the protected set. */
export function floeNeverBlockSpecSchema(): OpenApiSchema {
  return {
    type: 'object',
    description: "CIDRs (or bare addresses) floe never blocks; merged into the responder's protected set (respond.neverBlock) and always winning.",
    required: ['cidrs'],
    properties: {
      cidrs: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 64 } },
      reason: { type: 'string', maxLength: 1024, description: 'Why these are protected (shown in refusals and audits).' },
    },
  };
}
