// The XL offline floor: the file through stream-json's JSON tokenizer (`jsonParser`, the bare
// tokenizer its `parser` wraps; packed keys, strings and numbers, as its assemblers read them),
// in 64 KiB chunks (its speed falls with bigger ones) decoded as UTF-8, counting the tokens and keeping nothing: no stream or object
// is built, so this is the tokenizer's own speed. Usage: tokenize.mjs FILE
import {closeSync, openSync, readSync} from 'node:fs'
import {StringDecoder} from 'node:string_decoder'
import {none} from 'stream-chain/core'
import {jsonParser} from 'stream-json/core/parser.js'

const tokenize = jsonParser({streamValues: false})
const decoder = new StringDecoder('utf8')
const fd = openSync(process.argv[2], 'r')
const buf = Buffer.allocUnsafe(64 << 10)
let tokens = 0
const count = (out) => {
  if (out === none) return
  const list = out?.values ?? (Array.isArray(out) ? out : [out])
  tokens += list.length
}
for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) count(tokenize(decoder.write(buf.subarray(0, n))))
count(tokenize(none))
closeSync(fd)
process.stderr.write(`${tokens} tokens\n`)
