/**
 * The one entry point other use cases (bind/) use into diagnose/: the verdict for one claim and
 * the types it returns. Anything else in this folder is private to `explain`.
 */
export {diagnoseClaim} from './diagnoseClaim.js'
export {staleClaimHints} from './advice.js'
export type {Cause} from './types.js'
