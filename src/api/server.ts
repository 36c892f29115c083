/**
 * `eksauth/server`: the TokenReview webhook that `eksauth server` runs, to embed in a program, and its parts (the
 * TokenReview request/response codec) for a webhook of one's own (with `verifyToken` and `mapIdentity` of
 * `eksauth/verify`).
 */
export { startServer, type StartServerOptions, type RunningServer } from '../server/run.js';
export { resolveServerConfig, loadServerConfigFile, type ServerConfig, type ServerConfigInput, type BackendMode } from '../server/config.js';
export { initServerFiles, type InitResult } from '../server/init.js';
export { parseTokenReviewRequest, tokenReviewResponse, type TokenReviewApiVersion, type TokenReviewRequest } from '../server/webhook.js';
export type { ReviewResult } from '../server/review.js';
export type { CacheResult } from '../lib/expiring-cache.js';
export type { ReviewOutcome } from '../server/metrics.js';
export type { KubernetesAccess } from '../server/kubernetes-access.js';
export type { AccessEntriesEksOptions } from '../server/mappings.js';
export type { Logger } from '../server/logger.js';
export { TOKEN_REVIEW_API_VERSIONS } from '../server/webhook.js';
export type { LogLevel, ConfigFile } from '../server/config.js';
export type { LogFn, LogDestination } from '../server/logger.js';
