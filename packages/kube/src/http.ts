import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KUBE_ERROR_CODES, KubeError } from './errors.js';

/** Accept header of a metadata-only read (Kubernetes API concepts, "Receiving resources as Tables / PartialObjectMetadata"). */
export const PARTIAL_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Largest response body read (bytes): a list of 10 000 pods is about 40 MB as JSON. */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

/**
 * GETs `path` from the current cluster of `kc` with its credentials (client certificate, bearer
 * token, CA) and returns the parsed JSON body; undefined for 404.
 * @throws KubeError FLOE_KUBE_API for another status or a transport error.
 */
export async function kubeGetJson<T>(kc: KubeConfig, path: string, accept = 'application/json'): Promise<T | undefined> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError(KUBE_ERROR_CODES.CONFIG, 'the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: accept } };
  await kc.applyToHTTPSOptions(opts);
  opts.headers = { ...(opts.headers ?? {}), Accept: accept };
  const mod = url.protocol === 'http:' ? http : https;
  if (url.protocol === 'http:') delete opts.agent;
  return new Promise<T | undefined>((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_BODY_BYTES) {
          req.destroy(new KubeError(KUBE_ERROR_CODES.API, `GET ${path}: response over ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 404) return resolve(undefined);
        if (res.statusCode !== 200) return reject(new KubeError(KUBE_ERROR_CODES.API, `GET ${path}: HTTP ${res.statusCode} ${body.slice(0, 200)}`, res.statusCode));
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          reject(new KubeError(KUBE_ERROR_CODES.API, `GET ${path}: body is not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new KubeError(KUBE_ERROR_CODES.API, `GET ${path}: no answer in 30 s`)));
    req.on('error', (e) => reject(e instanceof KubeError ? e : new KubeError(KUBE_ERROR_CODES.API, `GET ${path}: ${e.message}`)));
    req.end();
  });
}
