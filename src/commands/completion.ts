import * as Args from '@oclif/core/args'
import {BaseCommand} from '../base/command.js'
import {completionScript, type Shell, SHELLS} from '../completion/scripts.js'

export default class Completion extends BaseCommand {
  static summary = 'Print a shell completion script for running kubectl-pv_doctor directly.'

  static description =
    `Through kubectl (1.26 or later) nothing is needed: kubectl completes \`kubectl pv-doctor <TAB>\` by running kubectl_complete-pv_doctor, installed next to the plugin. This script is for typing kubectl-pv_doctor itself.`

  static examples = [
    {description: 'bash, for this shell', command: 'source <(<%= config.bin %> completion bash)'},
    {description: 'zsh, for this shell', command: 'source <(<%= config.bin %> completion zsh)'},
    {
      description: 'fish, for every new shell',
      command: '<%= config.bin %> completion fish > ~/.config/fish/completions/kubectl-pv_doctor.fish',
    },
  ]

  static flags = {}

  static args = {
    shell: Args.string({description: 'The shell: bash, zsh or fish.', required: true, options: [...SHELLS]}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Completion)
    process.stdout.write(completionScript(args.shell as Shell))
  }
}
