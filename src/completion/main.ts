/**
 * The kubectl_complete-pv_doctor program: prints cobra-format candidates for the words given and
 * always exits 0 with nothing on stderr (kubectl passes the plugin's stderr through to the shell).
 */
import {clusterLookup} from './cluster.js'
import {complete, Directive, format, type Lookup, type Manifest} from './complete.js'

export async function runComplete(args: string[], manifest: Manifest, lookup: Lookup = clusterLookup()): Promise<void> {
  // cobra programs are also driven as `prog __complete WORDS...`; accept that form too.
  const words = args[0] === '__complete' || args[0] === '__completeNoDesc' ? args.slice(1) : args
  let out: string
  try {
    const answer = await complete(words.length ? words : [''], manifest, lookup)
    if (args[0] === '__completeNoDesc') answer.items = answer.items.map((i) => i.split('\t')[0])
    out = format(answer)
  } catch {
    out = format({items: [], directive: Directive.Error})
  }
  process.stdout.write(out, () => process.exit(0))
}
