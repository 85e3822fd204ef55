// A value option given twice: commander keeps the last one silently, so `export --team A --team B`
// would export B alone. Options that mean a list say so (repeatable: each value is kept); every other
// option that takes a value is refused when given twice, exit 2 naming it.
import { Command, Option } from 'commander';

const REPEATABLE = new WeakSet<Option>();

/** A value option that may be given many times: its values are collected, in the order given. */
export function repeatable(flags: string, description: string): Option {
  const opt = new Option(flags, description).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  REPEATABLE.add(opt);
  return opt;
}

/** Every value option of every command under `program`, not marked repeatable, refuses a second use. */
export function refuseRepeatedOptions(program: Command): void {
  const visit = (cmd: Command): void => {
    for (const opt of cmd.options) {
      if (REPEATABLE.has(opt) || opt.variadic || !(opt.required || opt.optional)) continue;
      let seen = 0;
      // commander emits option:<name> once per use on the command line (not for env or defaults).
      cmd.on(`option:${opt.name()}`, () => {
        if (++seen > 1) cmd.error(`flare-agent ${cmd.name()}: ${opt.long ?? opt.flags} given more than once; give it once`, { exitCode: 2, code: 'flare.usage' });
      });
    }
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}
