/**
 * `eksauth/server`: the TokenReview webhook that `eksauth server` runs, to embed in a program, and its parts (the
 * request/response codec and the reviewer) for a webhook of one's own.
 */
export { startServer, type StartServerOptions, type RunningServer } from '../server/run.js';
export { resolveServerConfig, loadServerConfigFile, type ServerConfig, type ServerConfigInput, type BackendMode } from '../server/config.js';
export { initServerFiles, type InitResult } from '../server/init.js';
export { parseTokenReviewRequest, tokenReviewResponse, type TokenReviewApiVersion, type TokenReviewRequest } from '../server/webhook.js';
export { createTokenReviewer, type ReviewResult, type TokenReviewer, type TokenReviewerDeps } from '../server/review.js';
export type { KubernetesAccess } from '../server/kubernetes-access.js';
export type { Logger } from '../server/logger.js';
