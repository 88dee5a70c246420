/** Machine output: JSON indented like kubectl (4 spaces), YAML with kubectl's layout. */
import yaml from 'js-yaml'

export function toJSON(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 4) + '\n'
}

export function toYAML(v: unknown): string {
  return yaml.dump(JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))), {noArrayIndent: true, lineWidth: -1, noRefs: true, quotingType: '"'})
}

export function serialize(v: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJSON(v) : toYAML(v)
}
