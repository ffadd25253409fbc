/**
 * Writes deploy/k8s/crd-{floepolicies,floeneverblocks}.floe.dev.yaml from crd.ts
 * (`npm run -w @floe/kube-config gen-crds`). crd.test.ts fails when they differ.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crdFiles } from './crd-files.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
for (const f of crdFiles()) {
  writeFileSync(root + f.path, f.text);
  console.log(`wrote ${f.path}`);
}
