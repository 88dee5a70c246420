/** Hash of what the binary is built from (see inputs.mjs). */
export function inputsHash(root: string): string
