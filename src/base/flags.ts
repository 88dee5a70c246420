/**
 * The flags several commands share. A module of its own, without oclif's Command, so bin/'s fast
 * path for `explain` (src/startup/explainFast.ts) can parse with the same definitions.
 */
import * as Flags from '@oclif/core/flags'
import {NEWEST_MINOR} from '../binding/kubeVersion.js'

export const clusterFlags = {
  kubeconfig: Flags.string({
    summary: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).',
    helpGroup: 'CLUSTER',
  }),
  context: Flags.string({summary: 'The kubeconfig context to use.', helpGroup: 'CLUSTER'}),
  namespace: Flags.string({
    char: 'n',
    summary: "Namespace to look in (default: the context's namespace).",
    helpGroup: 'CLUSTER',
  }),
  as: Flags.string({summary: 'Username to impersonate for the operation (like kubectl --as).', helpGroup: 'CLUSTER'}),
  'as-group': Flags.string({
    summary: 'Group to impersonate (repeatable, like kubectl --as-group).',
    multiple: true,
    helpGroup: 'CLUSTER',
  }),
  'request-timeout': Flags.string({
    summary: 'How long to wait for each API request (e.g. 10s, 1m; 0 = no limit).',
    default: '10s',
    helpGroup: 'CLUSTER',
  }),
  'from-file': Flags.string({
    char: 'f',
    summary:
      'Work offline from a snapshot: `kubectl get ... -o json` output, YAML, or `pv-doctor snapshot` output. Repeatable; "-" reads stdin.',
    multiple: true,
    helpGroup: 'CLUSTER',
  }),
  'kube-version': Flags.string({
    summary: `The cluster's Kubernetes version (e.g. 1.32 or v1.34.4) whose rules and messages to follow. Default: the API server's /version, or for --from-file the version the snapshot recorded, else the newest supported (1.${NEWEST_MINOR}).`,
    helpGroup: 'CLUSTER',
  }),
}

export const outputFlags = {
  output: Flags.option({
    char: 'o',
    options: ['json', 'yaml', 'wide'] as const,
    summary: 'Output format: json or yaml for scripts, wide for more columns.',
  })(),
  color: Flags.option({
    options: ['auto', 'always', 'never'] as const,
    default: 'auto' as const,
    summary: 'Colour the human output (auto: only on a terminal; NO_COLOR also turns it off).',
  })(),
  debug: Flags.boolean({summary: 'Show stack traces for errors.', hidden: false}),
}

export interface ClusterFlagValues {
  'kube-version'?: string
  kubeconfig?: string
  context?: string
  as?: string
  'as-group'?: string[]
  'request-timeout': string
}
