// Which containers the agent attaches to (README "Configuration"): `--select label:<key>[=<value>]`,
// `name:<regex>`, `image:<regex>` or `all`. Pure: parsing and matching only.

export type Selector =
  | { kind: 'label'; key: string; value: string | null }
  | { kind: 'name'; pattern: RegExp }
  | { kind: 'image'; pattern: RegExp }
  | { kind: 'all' };

/** What selection looks at: labels, the name without its leading '/', the image as the user gave it. */
export interface SelectionFacts {
  labels: Record<string, string>;
  name: string;
  image: string;
}

/** Parses a rule already validated by the config (config.ts checkShapes); throws on anything else. */
export function parseSelector(rule: string): Selector {
  if (rule === 'all') return { kind: 'all' };
  if (rule.startsWith('label:')) {
    const body = rule.slice('label:'.length);
    const eq = body.indexOf('=');
    return eq < 0 ? { kind: 'label', key: body, value: null } : { kind: 'label', key: body.slice(0, eq), value: body.slice(eq + 1) };
  }
  if (rule.startsWith('name:')) return { kind: 'name', pattern: new RegExp(rule.slice('name:'.length)) };
  if (rule.startsWith('image:')) return { kind: 'image', pattern: new RegExp(rule.slice('image:'.length)) };
  throw new Error(`invalid selection rule ${JSON.stringify(rule)}`);
}

export function isSelected(selector: Selector, facts: SelectionFacts): boolean {
  switch (selector.kind) {
    case 'all':
      return true;
    case 'label': {
      if (!Object.prototype.hasOwnProperty.call(facts.labels, selector.key)) return false;
      return selector.value === null || facts.labels[selector.key] === selector.value;
    }
    case 'name':
      return selector.pattern.test(facts.name);
    case 'image':
      return selector.pattern.test(facts.image);
  }
}
