/**
 * YAML + JSON-schema validation that reports each problem with file, line, column and field path.
 * The YAML text is parsed with `yaml`'s parseDocument and a LineCounter; ajv validates the plain
 * value; each ajv instancePath is walked back through the YAML node tree to the node's position.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { escapeText, quoteExcerpt } from '@floe/flow';
import { parseCidr } from './cidr.js';
import { CidrError } from './errors.js';
import { parseDuration, parsePortSpec } from './ports.js';
import type { PolicyIssue } from './types.js';

/** Issue codes (PolicyIssue.code), each documented in the README. */
export const ISSUE_CODES = {
  FLOE_POLICY_YAML_SYNTAX: 'the text is not well-formed YAML',
  FLOE_POLICY_EMPTY: 'the document is empty',
  FLOE_POLICY_UNKNOWN_KEY: 'a key the schema does not define',
  FLOE_POLICY_MISSING_KEY: 'a required key is absent',
  FLOE_POLICY_TYPE: 'a value has the wrong type',
  FLOE_POLICY_BAD_VALUE: 'a value is out of range or not one of the allowed values',
  FLOE_POLICY_BAD_CIDR: 'a CIDR or address is not valid',
  FLOE_POLICY_BAD_PORT: 'a port is outside 0..65535 or a range is malformed',
  FLOE_POLICY_BAD_DURATION: 'a duration is not like 90s, 15m, 1h, 1d',
  FLOE_POLICY_UNKNOWN_ZONE: 'ingress names a zone that networks does not define',
  FLOE_POLICY_ZONE_NAME: 'a user zone reuses a built-in zone name',
  FLOE_POLICY_BLOCKLIST_FILE: 'a blocklist file is missing or has a bad line',
} as const;

/** A path into the document: keys and array indexes. */
export type DocPath = ReadonlyArray<string | number>;

/**
 * Where the value at `path` (`['detectors', 'model', 'dir']`) is written in the YAML `text`:
 * 1-based line and column (of the deepest node that exists when the path is absent).
 */
export function locateYamlPath(text: string, path: DocPath): { line: number; column: number } {
  return new YamlSource(text, '').locate(path);
}

/** Format a document path as `networks.pods[1]`. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const seg of path) {
    // Keys come from the input: escaped and cut to 40 characters (a path is printed on terminals).
    const key = typeof seg === 'number' ? '' : seg.length > 40 ? `${escapeText(seg.slice(0, 40))}…` : escapeText(seg);
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

function cidrKeyword(_schema: boolean, data: unknown): boolean {
  try {
    parseCidr(data as string);
    return true;
  } catch (e) {
    cidrKeyword.errors = [{ keyword: 'floeCidr', message: e instanceof CidrError ? e.message : String(e), params: {} }];
    return false;
  }
}
cidrKeyword.errors = [] as Array<Partial<ErrorObject>>;

function portKeyword(_schema: boolean, data: unknown): boolean {
  const r = parsePortSpec(data);
  if (typeof r !== 'string') return true;
  portKeyword.errors = [{ keyword: 'floePort', message: r, params: {} }];
  return false;
}
portKeyword.errors = [] as Array<Partial<ErrorObject>>;

function durationKeyword(_schema: boolean, data: unknown): boolean {
  const r = parseDuration(data);
  if (typeof r === 'number') return true;
  durationKeyword.errors = [{ keyword: 'floeDuration', message: r, params: {} }];
  return false;
}
durationKeyword.errors = [] as Array<Partial<ErrorObject>>;

/** An ajv instance with floe's keywords (floeCidr, floePort, floeDuration), defaults applied in place. */
export function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTuples: false });
  ajv.addKeyword({ keyword: 'floeCidr', type: 'string', schemaType: 'boolean', errors: true, validate: cidrKeyword });
  ajv.addKeyword({ keyword: 'floePort', schemaType: 'boolean', errors: true, validate: portKeyword });
  ajv.addKeyword({ keyword: 'floeDuration', type: 'string', schemaType: 'boolean', errors: true, validate: durationKeyword });
  return ajv;
}

/** A parsed YAML document with positions, and helpers to report issues against it. */
export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lc: LineCounter;
  readonly issues: PolicyIssue[] = [];

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    this.lc = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const { line, col } = this.lc.linePos(e.pos[0]);
      this.issues.push({ file, line, column: col, field: '', message: escapeText(e.message.split('\n')[0].slice(0, 200)), code: 'FLOE_POLICY_YAML_SYNTAX' });
    }
  }

  /** True when the YAML itself parsed without errors. */
  get wellFormed(): boolean {
    return this.doc.errors.length === 0;
  }

  /**
   * Position of the node at `path` (1-based line and column). With `atKey`, the position of the
   * map key of the last segment. A path that does not exist in the text (a default) resolves to
   * the deepest node that does.
   */
  locate(path: DocPath, atKey = false): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let pos = 0;
    const at = (n: unknown): number | undefined => {
      const r = (n as YamlNode | null)?.range;
      return r ? r[0] : undefined;
    };
    pos = at(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        const keyPos = at(pair.key);
        if (last && atKey && keyPos !== undefined) {
          pos = keyPos;
          break;
        }
        const valPos = at(pair.value);
        pos = valPos ?? keyPos ?? pos;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        pos = at(item) ?? pos;
        node = item;
      } else {
        break;
      }
    }
    const { line, col } = this.lc.linePos(pos);
    return { line, column: col };
  }

  /** Record an issue at `path`. */
  report(path: DocPath, code: keyof typeof ISSUE_CODES, message: string, atKey = false): void {
    const { line, column } = this.locate(path, atKey);
    this.issues.push({ file: this.file, line, column, field: formatPath(path), message, code });
  }

  /** Run a compiled ajv validator over the document value (defaults are filled in place) and record its errors. Returns the value. */
  validate(fn: ValidateFunction): unknown {
    let data: unknown;
    try {
      data = this.doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // yaml throws (ReferenceError "Excessive alias count…") for an alias bomb, and on other
      // documents it cannot turn into values: one syntax issue, no stack.
      this.issues.push({ file: this.file, line: 1, column: 1, field: '', message: escapeText((e as Error).message.split('\n')[0].slice(0, 200)), code: 'FLOE_POLICY_YAML_SYNTAX' });
      return undefined;
    }
    if (data === null || data === undefined) {
      this.issues.push({ file: this.file, line: 1, column: 1, field: '', message: 'the document is empty', code: 'FLOE_POLICY_EMPTY' });
      return data;
    }
    if (!fn(data)) {
      for (const e of fn.errors ?? []) this.reportAjv(e);
    }
    return data;
  }

  private reportAjv(e: ErrorObject): void {
    const path: Array<string | number> = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    // Array indexes must stay numbers only where the YAML node is a sequence; keys that look numeric stay strings.
    const fixed = this.fixIndexes(path);
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        this.report([...fixed, key], 'FLOE_POLICY_UNKNOWN_KEY', `unknown key ${quoteExcerpt(key)}`, true);
        return;
      }
      case 'required':
        this.report(fixed, 'FLOE_POLICY_MISSING_KEY', `missing required key ${JSON.stringify(params.missingProperty)}`);
        return;
      case 'type':
        this.report(fixed, 'FLOE_POLICY_TYPE', `must be ${String(params.type)}, got ${describe(this.valueAt(fixed))}`);
        return;
      case 'enum':
        this.report(fixed, 'FLOE_POLICY_BAD_VALUE', `must be one of ${(params.allowedValues as unknown[]).join(', ')}`);
        return;
      case 'const':
        this.report(fixed, 'FLOE_POLICY_BAD_VALUE', `must be ${JSON.stringify(params.allowedValue)}`);
        return;
      case 'floeCidr':
        this.report(fixed, 'FLOE_POLICY_BAD_CIDR', e.message ?? 'invalid CIDR');
        return;
      case 'floePort':
        this.report(fixed, 'FLOE_POLICY_BAD_PORT', e.message ?? 'invalid port');
        return;
      case 'floeDuration':
        this.report(fixed, 'FLOE_POLICY_BAD_DURATION', e.message ?? 'invalid duration');
        return;
      case 'propertyNames':
        return; // the nested `pattern` error names the key
      case 'pattern':
        if (e.propertyName !== undefined) {
          this.report([...fixed, e.propertyName], 'FLOE_POLICY_BAD_VALUE', `key ${quoteExcerpt(e.propertyName)} must match ${String(params.pattern)}`, true);
          return;
        }
        this.report(fixed, 'FLOE_POLICY_BAD_VALUE', e.message ?? 'invalid value');
        return;
      default:
        this.report(fixed, 'FLOE_POLICY_BAD_VALUE', e.message ?? 'invalid value');
    }
  }

  private fixIndexes(path: Array<string | number>): Array<string | number> {
    let node: unknown = this.doc.contents;
    return path.map((seg) => {
      if (isSeq(node)) {
        node = node.items[Number(seg)];
        return Number(seg);
      }
      if (isMap(node)) node = node.get(String(seg), true) ?? node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))?.value;
      else node = undefined;
      return String(seg);
    });
  }

  private valueAt(path: DocPath): unknown {
    let v: unknown = this.doc.toJS({ maxAliasCount: 100 });
    for (const seg of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[seg as string];
    }
    return v;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${quoteExcerpt(v)}`;
  if (typeof v === 'object') return 'object';
  return `${typeof v} ${String(v)}`;
}
