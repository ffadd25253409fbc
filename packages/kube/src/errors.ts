/** Stable error codes of @floe/kube (docs/errors.md). */
export const KUBE_ERROR_CODES = {
  /** The kubeconfig cannot be loaded or has no current cluster. */
  CONFIG: 'FLOE_KUBE_CONFIG',
  /** The API server answered with an error or could not be reached. */
  API: 'FLOE_KUBE_API',
} as const;
export type KubeErrorCode = (typeof KUBE_ERROR_CODES)[keyof typeof KUBE_ERROR_CODES];

/** An error of @floe/kube, with its stable code and, for API errors, the HTTP status. */
export class KubeError extends Error {
  constructor(
    readonly code: KubeErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}
