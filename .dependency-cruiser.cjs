// The import rule of npm test (scripts/test.sh): the layers of docs/architecture.md, each folder of
// src/ on one tier, and an import only to a tier below it or to its own (a folder's files among
// themselves, or two folders of one tier). No cycle, at any level. Tests and benchmarks sit on top.
/** Lowest first. A name is a folder of src/ or a file at its top (config.ts, log.ts, …). */
const LAYERS = [
  ['core'],
  ['log', 'paths', 'version', 'organiser-file', 'usage-error', 'counter-file', 'thread-end', 'clock'],
  ['cgroup'],
  ['sources'],
  ['gpu'],
  ['store'],
  ['export'],
  ['plot', 'official'],
  ['scoring'],
  ['accuracy'],
  ['agent'],
  ['profiler', 'runtime'],
  ['http'],
  ['daemon'],
  ['evaluate'],
  ['config'],
  ['commands'],
  ['cli'],
];

const anyOf = (names) => `^src/(${names.join('|')})(/|\\.ts$)`;

const upward = LAYERS.slice(0, -1).map((tier, i) => ({
  name: `no-upward-import-from-${tier.join('-')}`,
  comment: `${tier.join(', ')} may import only tiers below it (docs/architecture.md, "Layers")`,
  severity: 'error',
  from: { path: anyOf(tier) },
  to: { path: anyOf(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one: move the shared piece to the lower one',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unlayered-module',
      comment: 'every folder and top file of src/ has a tier in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: anyOf(LAYERS.flat()) },
    },
    {
      name: 'src-not-to-tests',
      comment: 'the product never imports its tests or benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'store-through-its-index',
      comment: 'outside src/store/, the store is used through src/store/index.ts, its one entry',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: '^src/store/', pathNot: '^src/store/index\\.ts$' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
