/** What commands share for reading their arguments and asking the user. */
import {UserError} from '../errors.js'

const CLAIM_WORDS = ['pvc', 'pvcs', 'persistentvolumeclaim', 'persistentvolumeclaims']
const POD_WORDS = ['pod', 'pods', 'po']
const STS_WORDS = ['sts', 'statefulset', 'statefulsets', 'statefulset.apps', 'statefulsets.apps']
const DEPLOY_WORDS = ['deploy', 'deployment', 'deployments', 'deployment.apps', 'deployments.apps']
const RS_WORDS = ['rs', 'replicaset', 'replicasets', 'replicaset.apps', 'replicasets.apps']
type WorkloadKind = 'statefulset' | 'deployment' | 'replicaset'
const PV_WORDS = ['pv', 'pvs', 'persistentvolume', 'persistentvolumes']

/** `pv/NAME` (kubectl's words for PersistentVolumes): the PV's name, else undefined. PVs have no namespace. */
export function parseVolumeArg(arg: string, usage: string): string | undefined {
  const parts = arg.split('/')
  if (parts.length < 2 || !PV_WORDS.includes(parts[0].toLowerCase())) return undefined
  if (parts.length !== 2 || parts[1] === '')
    throw new UserError(`cannot read "${arg}": a PersistentVolume has no namespace; use pv/NAME (${usage})`)
  return parts[1]
}

/**
 * NAME, NAMESPACE/NAME, or KIND/NAME and KIND/NAMESPACE/NAME with kubectl's words for the kinds
 * the command accepts (claims always; pods when `pods` is set; StatefulSets, Deployments and
 * ReplicaSets when `statefulSets` is). A lone kind word is a name.
 */
export function parseObjectArg<S extends boolean = false>(
  arg: string,
  opts: {pods?: boolean; statefulSets?: S; usage: string},
): {kind: 'claim' | 'pod' | (S extends true ? WorkloadKind : never); namespace?: string; name: string} {
  const parts = arg.split('/')
  const word = parts[0].toLowerCase()
  const kind =
    opts.pods && POD_WORDS.includes(word)
      ? 'pod'
      : opts.statefulSets && STS_WORDS.includes(word)
        ? 'statefulset'
        : opts.statefulSets && DEPLOY_WORDS.includes(word)
          ? 'deployment'
          : opts.statefulSets && RS_WORDS.includes(word)
            ? 'replicaset'
            : CLAIM_WORDS.includes(word)
              ? 'claim'
              : undefined
  const rest = kind && parts.length > 1 ? parts.slice(1) : parts
  if (rest.length === 0 || rest.length > 2 || rest.some((p) => p === ''))
    throw new UserError(`cannot read "${arg}": use ${opts.usage}`)
  const [namespace, name] = rest.length === 2 ? rest : [undefined, rest[0]]
  return {kind: kind && kind !== 'claim' && parts.length > 1 ? (kind as 'pod') : 'claim', namespace, name}
}

/** A yes/no question on stderr; only `y` or `yes` agrees. */
export async function confirm(question: string): Promise<boolean> {
  const {createInterface} = await import('node:readline/promises')
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}
