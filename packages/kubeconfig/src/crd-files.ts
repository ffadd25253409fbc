/** The CRD YAML files of deploy/k8s (crd-*.yaml) (paths relative to the repository root) and their text. */
import { stringify } from 'yaml';
import { type CustomResourceDefinition, floeNeverBlockCrd, floePolicyCrd } from './crd.js';

const HEADER = '# Generated from packages/kubeconfig/src/crd.ts (npm run -w @floe/kube-config gen-crds); do not edit.\n';

/** One generated file. */
export interface CrdFile {
  /** Relative to the repository root, e.g. `deploy/k8s/crd-floepolicies.floe.dev.yaml`. */
  path: string;
  crd: CustomResourceDefinition;
  text: string;
}

/** The generated CRD files, FloePolicy first. */
export function crdFiles(): CrdFile[] {
  return [floePolicyCrd(), floeNeverBlockCrd()].map((crd) => ({
    path: `deploy/k8s/crd-${crd.metadata.name}.yaml`,
    crd,
    text: HEADER + stringify(crd, { lineWidth: 0 }),
  }));
}
