/** The terminal's width for tables, or undefined when stdout is not a terminal (a pipe, a file: no cutting). */
export function terminalWidth(): number | undefined {
  return process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined
}
