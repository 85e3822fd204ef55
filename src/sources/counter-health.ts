// Which counters cannot be read right now, per source. A failed read makes a figure unknown (null),
// never 0; this is where the agent remembers it, so /healthz and flare_agent_source_up say the
// source is down for as long as one of its counters is unreadable (docs/cgroups.md §4).
import type { SourceStatus } from './types.js';

export type CounterSourceName = 'cgroup' | 'host';

export class CounterHealth {
  /** source → key (a run id, or 'host') → the `counter-unreadable: …` text. */
  private readonly failing = new Map<CounterSourceName, Map<string, string>>();

  /** onNew is called once per newly failing key (the owner logs it and counts a source error). */
  constructor(private readonly onNew: (source: CounterSourceName, key: string, flag: string) => void = () => {}) {}

  fail(source: CounterSourceName, key: string, flag: string): void {
    let m = this.failing.get(source);
    if (!m) this.failing.set(source, (m = new Map<string, string>()));
    if (m.has(key)) return;
    m.set(key, flag);
    this.onNew(source, key, flag);
  }

  /** The key reads again, or its target ended: it no longer holds the source down. */
  ok(source: CounterSourceName, key: string): void {
    this.failing.get(source)?.delete(key);
  }

  /** `base` unless a counter of this source is unreadable now. */
  status(source: CounterSourceName, base: SourceStatus): SourceStatus {
    const m = this.failing.get(source);
    if (!m || m.size === 0) return base;
    const [first] = m.values();
    return { up: false, reason: m.size > 1 ? `${first} (and ${m.size - 1} more)` : first };
  }
}
