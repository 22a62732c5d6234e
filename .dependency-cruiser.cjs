/**
 * The import graph's rules, checked by `pnpm test` (turbo task //#deps): no circles (type-only imports count: one
 * value import in the wrong place turns a type circle into a load-order crash), no package reaching into another's
 * folder (packages meet through their names and `exports`), and core's folders in one direction (CORE_LAYERS).
 */

/** What each folder of packages/core/src may import (besides itself). A folder not listed here is refused. */
const CORE_LAYERS = {
  // the bottom: the graph IR and plain data
  ir: [],
  data: [],
  // the model file's metadata format (keys, writer, validated reader, preprocessing); detection maths
  metadata: ['ir', 'data'],
  detection: ['ir'],
  // training a head on embeddings (pure arithmetic: runs in Node and in a page's worker)
  train: ['ir'],
  // a trained head behind a backbone's embedding output, as one graph with its metadata
  transfer: ['ir', 'metadata', 'train'],
  // graph passes, architectures, image kernels, tasks (what a model is for and how its outputs are read)
  passes: ['ir', 'metadata'],
  models: ['ir', 'metadata', 'detection'],
  image: ['ir', 'metadata'],
  tasks: ['ir', 'metadata', 'detection'],
  // ONNX serialization (applies passes), checkpoints and their key maps (onto models), the batching pipeline
  onnx: ['ir', 'passes'],
  weights: ['ir', 'models'],
  pipeline: ['ir', 'tasks'],
  // the top: pretrained names (models + weights), sessions (everything a runtime needs)
  pretrained: ['ir', 'metadata', 'models', 'weights'],
  session: ['ir', 'metadata', 'onnx', 'image', 'tasks', 'pipeline'],
};

const folderRules = Object.entries(CORE_LAYERS).map(([folder, allowed]) => ({
  name: `core-${folder}-imports-only-${allowed.join('-') || 'itself'}`,
  comment: `packages/core/src/${folder} may import only ${allowed.join(', ') || 'itself'} (see docs/design.md)`,
  severity: 'error',
  from: { path: `^packages/core/src/${folder}/`, pathNot: '\\.test\\.ts$' },
  to: { path: '^packages/core/src/', pathNot: `^packages/core/src/(${[folder, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle, type-only included. Move the shared piece down (a contract module) instead.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-reaching-into-another-package',
      severity: 'error',
      comment: 'Import another package by its name (its exports), never by a relative path into its folder.',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: { path: '^(packages|apps)/', pathNot: '^$1/$2/', dependencyTypes: ['local'] },
    },
    {
      name: 'no-reaching-into-a-package-from-tools',
      severity: 'error',
      comment: "Scripts under tools/ import the packages by name, never a file under a package's src.",
      from: { path: '^tools/' },
      to: { path: '^packages/[^/]+/src/', dependencyTypes: ['local'] },
    },
    {
      name: 'no-core-top-files-from-folders',
      severity: 'error',
      comment: "core's folders never import core's entry point or its top-level files (they sit above every folder).",
      from: { path: '^packages/core/src/[^/]+/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/src/[^/]+\\.ts$' },
    },
    {
      name: 'core-folder-unknown',
      severity: 'error',
      comment:
        'A new folder in packages/core/src gets its place in CORE_LAYERS (.dependency-cruiser.cjs) and docs/design.md.',
      from: {
        path: '^packages/core/src/[^/]+/',
        pathNot: `^packages/core/src/(${Object.keys(CORE_LAYERS).join('|')})/`,
      },
      to: {},
    },
    {
      name: 'serve-codec-imports-nothing',
      severity: 'error',
      comment:
        "@mobilenet/serve's protocol codec and Triton config (src/protocol, src/triton) import neither its server nor any runtime (docs/design.md)",
      from: { path: '^packages/serve/src/(protocol|triton)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/(serve/src/server/|runtime-|core/)|onnxruntime|sharp' },
    },
    ...folderRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|artifacts|out|tmp|tarballs|coverage|bench-results|\\.turbo|\\.cache)/' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with; swc parses type-only imports too.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'types', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
