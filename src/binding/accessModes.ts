/** Access-mode helpers: GetAccessModesAsString and CheckAccessModes (component-helpers). */
const ORDER = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const
const SHORT: Record<string, string> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
}

/** The controller's index key: de-duplicated modes in a fixed order, e.g. `RWO,ROX`. */
export function accessModesKey(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? [])
  const known = ORDER.filter((m) => set.has(m)).map((m) => SHORT[m])
  const unknown = [...set].filter((m) => !(m in SHORT)).sort()
  return [...known, ...unknown].join(',')
}

export function shortModes(modes: readonly string[] | undefined): string {
  return accessModesKey(modes) || '-'
}

/** Every mode the claim asks for is offered by the volume (the volume may offer more). */
export function containsAllModes(
  offered: readonly string[] | undefined,
  wanted: readonly string[] | undefined,
): boolean {
  const have = new Set(offered ?? [])
  return (wanted ?? []).every((m) => have.has(m))
}
