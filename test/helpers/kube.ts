/** The dev Kubernetes API server for tests outside packages/ (deploy/, test/e2e): see @floe/kube-config/testing. */
export * from '@floe/kube-config/testing';
