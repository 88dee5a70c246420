/**
 * The one entry point other use cases (bind/, wait/) use into diagnose/: the verdict for one
 * claim and the types it returns. Anything else in this folder is private to `explain`.
 */
export {diagnoseClaim} from './diagnoseClaim.js'
export {staleClaimHints} from './advice.js'
export type {Cause, ClaimDiagnosis} from './types.js'
