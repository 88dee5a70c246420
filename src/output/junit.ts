/**
 * JUnit XML (the Jenkins/Ant dialect that GitLab, Jenkins and GitHub test reporters read): one
 * testsuite, one testcase per claim, a `failure` whose message is `cause: message` and whose body
 * is the fix and the evidence. Written by hand: a dozen lines of XML do not need a library.
 */
import type {CiCase} from './ciCases.js'

export function renderJunit(suite: string, cases: readonly CiCase[], seconds?: number): string {
  const failures = cases.filter((c) => c.level === 'error' || c.level === 'warning').length
  const skipped = cases.filter((c) => c.skipped).length
  const time = seconds === undefined ? '' : ` time="${seconds.toFixed(3)}"`
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pv-doctor" tests="${cases.length}" failures="${failures}" errors="0"${time}>`,
    `  <testsuite name="${attr(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}"${time} timestamp="${new Date().toISOString().slice(0, 19)}">`,
  ]
  for (const c of cases) {
    const t = c.seconds === undefined ? '' : ` time="${c.seconds.toFixed(3)}"`
    const open = `    <testcase classname="${attr(c.namespace)}" name="${attr(c.name)}"${t}`
    if (c.level === 'error' || c.level === 'warning') {
      const body = [
        ...c.fix.map((f) => `Fix: ${f}`),
        ...c.evidence.map((e) => `Evidence: ${e}`),
        ...(c.source ? [`Manifest: ${c.source.file}:${c.source.line}`] : []),
      ].join('\n')
      out.push(
        `${open}>`,
        `      <failure type="${attr(c.cause)}" message="${attr(`${c.cause}: ${c.message}`)}">${text(body)}</failure>`,
        '    </testcase>',
      )
    } else if (c.skipped) {
      out.push(`${open}>`, `      <skipped>${text(c.skipped)}</skipped>`, '    </testcase>')
    } else {
      out.push(`${open}/>`)
    }
  }
  out.push('  </testsuite>', '</testsuites>')
  return `${out.join('\n')}\n`
}

/** Characters XML 1.0 cannot hold at all (control characters other than tab and newlines). */
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

function text(s: string): string {
  return s.replace(INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')
}
