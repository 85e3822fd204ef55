// Bad command-line usage, raised wherever an option is read (commands, evaluate, scoring's --profile)
// and turned into exit code 2 with one line by commands/action.ts. A leaf: anything may import it.

/** Bad command-line usage: exit code 2 with a one-line reason. */
export class UsageError extends Error {}
