/** Machine output: JSON indented like kubectl (4 spaces), YAML with kubectl's layout. Documents hold no BigInts. */
import yaml from 'js-yaml'

export function toJSON(v: unknown): string {
  return `${JSON.stringify(v, null, 4)}\n`
}

export function toYAML(v: unknown): string {
  // Through JSON first: undefined fields vanish, as they do in -o json.
  return yaml.dump(JSON.parse(JSON.stringify(v)), {noArrayIndent: true, lineWidth: -1, noRefs: true, quotingType: '"'})
}

export function serialize(v: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJSON(v) : toYAML(v)
}
