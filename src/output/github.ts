/**
 * GitHub Actions workflow commands: `::error file=F,line=L,title=T::MESSAGE` per failing claim
 * (`::warning` for a warning, `::notice` for an info worth seeing). Escaping follows the Actions
 * toolkit's command syntax: in the message `%`, CR and LF become %25, %0D, %0A; in properties also
 * `:` and `,` become %3A, %2C.
 */
import type {CiCase} from './ciCases.js'

export function renderGithub(cases: readonly CiCase[]): string {
  const lines: string[] = []
  for (const c of cases) {
    if (c.level === 'none') continue
    const props: string[] = []
    if (c.source) props.push(`file=${prop(c.source.file)}`, `line=${c.source.line}`)
    props.push(`title=${prop(`${c.namespace ? `${c.namespace}/` : ''}${c.name}: ${c.cause}`)}`)
    const msg = [c.message, ...c.fix.map((f) => `Fix: ${f}`)].join('\n')
    lines.push(`::${c.level} ${props.join(',')}::${data(msg)}`)
  }
  return lines.length ? `${lines.join('\n')}\n` : ''
}

function data(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

function prop(s: string): string {
  return data(s).replace(/:/g, '%3A').replace(/,/g, '%2C')
}
