/**
 * Inventory: which workload owns which address, for namespace trust boundaries and enrichment
 * until the Kubernetes API source exists. File format (YAML, or JSON since JSON is YAML 1.2):
 *
 *   version: 1
 *   endpoints:
 *     - { addr: 10.244.1.17, namespace: frontend, workload: web, pod: web-5d8f7-abcde, node: node-a }
 *     - { addr: 10.244.2.0/24, namespace: backend }
 */
import { readBoundedText } from '@floe/flow';
import type { ValidateFunction } from 'ajv';
import { CidrSet, parseCidr } from './cidr.js';
import { PolicyError, PolicyFileError } from './errors.js';
import { inventorySchema } from './schema.js';
import { makeAjv, YamlSource } from './validate.js';

/** One inventory endpoint: an address or CIDR and what owns it. */
export interface InventoryEntry {
  /** Address or CIDR (canonical text after loading). */
  addr: string;
  namespace?: string;
  workload?: string;
  pod?: string;
  node?: string;
  labels?: Record<string, string>;
}

/** A loaded inventory. Longest prefix wins when entries overlap. */
export interface Inventory {
  entries: InventoryEntry[];
}

let compiled: ValidateFunction | undefined;

/**
 * Parse and validate an inventory text (YAML or JSON).
 * @throws PolicyError (FLOE_POLICY_INVALID, kind 'inventory': `invalid inventory (N issues)`) with file:line:column per problem.
 */
export function parseInventory(text: string, file: string): Inventory {
  compiled ??= makeAjv().compile(inventorySchema);
  const src = new YamlSource(text, file);
  if (!src.wellFormed) throw new PolicyError(src.issues, 'inventory');
  const data = src.validate(compiled) as { endpoints: InventoryEntry[] };
  if (src.issues.length > 0) throw new PolicyError(src.issues, 'inventory');
  return { entries: data.endpoints.map((e) => ({ ...e, addr: parseCidr(e.addr).prefix })) };
}

/**
 * Read and validate an inventory file (YAML or JSON).
 * @throws PolicyFileError (FLOE_POLICY_FILE_NOT_FOUND) when unreadable; PolicyError (kind 'inventory') when invalid.
 */
export async function loadInventoryFile(path: string): Promise<Inventory> {
  let text: string;
  try {
    text = readBoundedText(path);
  } catch (e) {
    throw new PolicyFileError(path, e);
  }
  return parseInventory(text, path);
}

/** Build the lookup set of an inventory: prefix -> entry. */
export function inventorySet(inv: Inventory): CidrSet<InventoryEntry> {
  const set = new CidrSet<InventoryEntry>();
  for (const e of inv.entries) set.add(e.addr, e);
  return set;
}
