/**
 * Error catalog of @floe/kube-config: stable `FLOE_KUBECONFIG_…` codes (README "Errors").
 * Validation errors of a resource are not thrown: they land in its status (FLOE_POLICY_… codes).
 */

/** Stable error codes of this package and what they mean. */
export const KUBECONFIG_ERROR_CODES = {
  FLOE_KUBECONFIG_BAD_OPTIONS: 'watcher options are invalid (empty namespace or policy name)',
  FLOE_KUBECONFIG_APPLY_FAILED: 'a valid FloePolicy could not be applied to the running process (status code of the refusal)',
} as const;

/** One of the codes in {@link KUBECONFIG_ERROR_CODES}. */
export type KubeConfigErrorCode = keyof typeof KUBECONFIG_ERROR_CODES;

/** Thrown for bad watcher options. */
export class KubeConfigError extends Error {
  readonly code: KubeConfigErrorCode;
  constructor(code: KubeConfigErrorCode, message: string) {
    super(message);
    this.name = 'KubeConfigError';
    this.code = code;
  }
}
