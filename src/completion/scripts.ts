/**
 * Shell scripts that complete `kubectl-pv_doctor` run directly (through kubectl, kubectl's own
 * completion calls kubectl_complete-pv_doctor itself). Each asks kubectl_complete-pv_doctor, which
 * speaks cobra's protocol, and applies cobra's directives. Written by hand: cobra generates these
 * for Go programs only, and oclif's autocomplete plugin completes `kubectl pv-doctor` from its own
 * cache, not kubectl's plugin protocol.
 */
export type Shell = 'bash' | 'zsh' | 'fish'
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish']

const bash = `# bash completion for kubectl-pv_doctor. Load it with:
#   source <(kubectl pv-doctor completion bash)
_kubectl_pv_doctor() {
  local line=\${COMP_LINE:0:COMP_POINT} out directive cur
  local -a words
  read -ra words <<<"$line"
  [[ $line == *[[:space:]] ]] && words+=("")
  cur=\${words[\${#words[@]}-1]}
  out=$(kubectl_complete-pv_doctor __completeNoDesc "\${words[@]:1}" 2>/dev/null) || return 0
  directive=\${out##*:}
  out=\${out%:*}
  (( directive & 1 )) && return 0
  (( directive & 2 )) && compopt -o nospace
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  # bash splits words at = and :, so the shell's word is only what follows them.
  if [[ $cur == *[=:]* ]]; then
    local head=\${cur%"\${cur##*[=:]}"}
    COMPREPLY=("\${COMPREPLY[@]#"$head"}")
  fi
  if (( \${#COMPREPLY[@]} == 0 && !(directive & 4) )); then compopt -o default; fi
  return 0
}
complete -F _kubectl_pv_doctor kubectl-pv_doctor
`

const zsh = `#compdef kubectl-pv_doctor
# zsh completion for kubectl-pv_doctor. Load it with:
#   source <(kubectl pv-doctor completion zsh)
_kubectl_pv_doctor() {
  local out directive l
  local -a lines comps
  out=$(kubectl_complete-pv_doctor __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  lines=("\${(@)lines[1,-2]}")
  (( directive & 1 )) && return 1
  for l in $lines; do
    comps+=("\${\${l%%$'\\t'*}//:/\\\\:}\${\${(M)l:#*$'\\t'*}:+:\${l#*$'\\t'}}")
  done
  if (( \${#comps} == 0 )); then
    (( directive & 4 )) || _files
    return
  fi
  if (( directive & 2 )); then _describe -t values 'value' comps -S ''; else _describe -t values 'value' comps; fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _kubectl_pv_doctor "$@"; else compdef _kubectl_pv_doctor kubectl-pv_doctor; fi
`

const fish = `# fish completion for kubectl-pv_doctor. Load it with:
#   kubectl pv-doctor completion fish | source
function __kubectl_pv_doctor_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    set -l out (kubectl_complete-pv_doctor __complete $args 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    test (math "$directive % 2") -eq 1; and return
    set -e out[-1]
    if test (count $out) -eq 0; and test (math "floor($directive / 4) % 2") -eq 0
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end
complete -c kubectl-pv_doctor -f -a '(__kubectl_pv_doctor_complete)'
`

export function completionScript(shell: Shell): string {
  return {bash, zsh, fish}[shell]
}
