/**
 * Exact Kubernetes resource quantities (`1Gi`, `1073741824`, `1.5G`, `500M`, `1e9`).
 * Values are kept as BigInt nano-units so `1Gi` and `1073741824` compare equal and nothing
 * is rounded by floating point — upstream compares with resource.Quantity.Cmp.
 */
const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
}
const DECIMAL: Record<string, number> = {n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18}
const NANO = 9

const RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/

// A cluster holds few distinct quantities ("10Gi", "100Gi", ...) but the engine compares them
// millions of times; parsing each text once keeps the comparisons cheap.
const parsed = new Map<string, bigint | undefined>()
const MAX_CACHED = 10_000

/** Parses a quantity to nano-units; undefined when it is not a valid quantity. */
export function parseQuantity(q: string | number | undefined | null): bigint | undefined {
  if (q === undefined || q === null) return undefined
  const text = String(q)
  const hit = parsed.get(text)
  if (hit !== undefined || parsed.has(text)) return hit
  const v = parse(text)
  if (parsed.size >= MAX_CACHED) parsed.clear()
  parsed.set(text, v)
  return v
}

function parse(text: string): bigint | undefined {
  const m = RE.exec(text.trim())
  if (!m) return undefined
  const [, sign, num, bin, exp, dec] = m
  const [intPart, fracPart = ''] = num.split('.')
  const digits = BigInt((intPart || '0') + fracPart)
  let exponent = NANO - fracPart.length
  let mult = 1n
  if (bin) mult = BINARY[bin]
  else if (exp) exponent += Number(exp.slice(1))
  else exponent += DECIMAL[dec ?? '']
  let v = digits * mult
  if (exponent >= 0) v *= 10n ** BigInt(exponent)
  else {
    // Sub-nano precision: round up like Quantity does when it scales down.
    const d = 10n ** BigInt(-exponent)
    v = (v + d - 1n) / d
  }
  return sign === '-' ? -v : v
}

/** A missing or invalid quantity counts as zero, as an absent map entry does upstream. */
export function quantityOrZero(q: string | number | undefined | null): bigint {
  return parseQuantity(q) ?? 0n
}

/** Whole bytes (rounded up), for display and JSON. */
export function toBytes(nano: bigint): bigint {
  return nano >= 0n ? (nano + 999_999_999n) / 1_000_000_000n : -((-nano + 999_999_999n) / 1_000_000_000n)
}

/** Human form: the largest binary unit that divides exactly, else bytes (e.g. 1Gi, 1536Mi, 1000000000). */
export function formatBytes(bytes: bigint): string {
  for (const [unit, size] of Object.entries(BINARY).reverse()) {
    if (bytes !== 0n && bytes % size === 0n) return `${bytes / size}${unit}`
  }
  return String(bytes)
}
