// Adds the config table's options to a commander command, so flags, env and JSON file stay one list.
import { Option, type Command } from 'commander';
import { OPTIONS, envName } from '../config.js';
import { type AgentConfig } from '../agent/config.js';

export function addConfigOptions(cmd: Command, keys?: readonly (keyof AgentConfig)[]): Command {
  for (const def of OPTIONS) {
    if (keys && !keys.includes(def.key)) continue;
    const spec = def.kind === 'bool' ? `--${def.flag} [bool]` : `--${def.flag} <value>`;
    const opt = new Option(spec, `${def.help} (env ${envName(def.flag)})`);
    if (def.choices) opt.choices(def.choices);
    cmd.addOption(opt);
  }
  cmd.option('--config <file.json>', `JSON file with any of the options above, by camelCase name (env ${envName('config')})`);
  return cmd;
}

/** commander gives `true` for a bare boolean flag; keep explicit values as given. */
export function flagValues(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[k] = v;
  return out;
}
