/**
 * Import boundaries between the top-level folders (docs/architecture.md explains why).
 * `make test` runs this check (test/boundaries.test.ts), so a shortcut across rooms fails CI.
 *
 * Each room lists the rooms its source may import; npm packages and node builtins are always
 * allowed. Tests of a room may also import the shared test helpers (test/support, test/standins).
 * The order is a stack (proto, core, sql / sdk, client, sfu / signaling, cli / bench / test), so
 * an allowed import never points upward and top-level folders cannot form a cycle.
 */
const ENGINE = '(sidecars/(?:stt-[^/]+|mt-[^/]+|examples/[^/]+)/)';
// `testsMay`: what a room's tests import beyond what its source may (the test helpers of the rooms
// below, and for the client the real engines it is tested against).
const ROOMS = {
  proto: { path: '^proto/', may: ['proto/'] },
  core: { path: '^core/', may: ['core/', 'proto/'] },
  sql: { path: '^sql/', may: ['sql/', 'core/', 'proto/'] },
  sdk: { path: '^sidecars/sdk/', may: ['sidecars/sdk/', 'core/', 'proto/'] },
  client: {
    path: '^sidecars/client/',
    may: ['sidecars/client/', 'sidecars/sdk/src/index\\.ts$', 'core/', 'proto/'],
    testsMay: ['sidecars/sdk/test/', 'sidecars/(?:stt-[^/]+|mt-[^/]+|examples/[^/]+)/src/'],
  },
  sfu: { path: '^sfu/', may: ['sfu/', 'sidecars/client/src/index\\.ts$', 'sql/', 'core/', 'proto/'], testsMay: ['sidecars/sdk/'] },
  signaling: { path: '^signaling/', may: ['signaling/', 'sql/', 'core/', 'proto/'] },
};
const TEST_HELPERS = ['test/support/', 'test/standins/'];
const alternatives = (paths) => `^(?:${paths.join('|')})`;
const IN_REPO = '^(?:proto|core|sql|sidecars|sfu|signaling|cli|bench|test)/';

const roomRules = Object.entries(ROOMS).flatMap(([name, room]) => [
  {
    name: `${name}-imports-only-below`,
    comment: `${room.path} may import only ${room.may.join(', ')}`,
    severity: 'error',
    from: { path: room.path, pathNot: '/test/' },
    to: { path: IN_REPO, pathNot: alternatives(room.may) },
  },
  {
    name: `${name}-tests-import-only-below`,
    comment: `tests of ${room.path} may import only ${room.may.join(', ')} and the shared test helpers`,
    severity: 'error',
    from: { path: `${room.path}test/` },
    to: { path: IN_REPO, pathNot: alternatives([...room.may, ...(room.testsMay ?? []), ...TEST_HELPERS]) },
  },
]);

module.exports = {
  forbidden: [
    ...roomRules,
    {
      name: 'engine-imports-only-the-sdk',
      comment: 'an engine reaches the platform only through the SDK public entry (and the contract through it)',
      severity: 'error',
      from: { path: `^${ENGINE}`, pathNot: '/test/' },
      to: { path: IN_REPO, pathNot: '^(?:$1|sidecars/sdk/src/index\\.ts$)' },
    },
    {
      name: 'engine-tests-import-only-the-sdk',
      comment: 'engine tests: their engine, the SDK, the contract and the platform client they are called by, and the test helpers',
      severity: 'error',
      from: { path: `^${ENGINE}test/` },
      to: { path: IN_REPO, pathNot: alternatives(['$1', 'sidecars/sdk/src/index\\.ts$', 'sidecars/sdk/test/', 'sidecars/client/src/index\\.ts$', 'proto/', 'core/test/support/', ...TEST_HELPERS]) },
    },
    {
      name: 'client-only-through-its-index',
      comment: 'outside sidecars/client, the client is used only through sidecars/client/src/index.ts',
      severity: 'error',
      from: { pathNot: '^sidecars/client/' },
      to: { path: '^sidecars/client/src/', pathNot: '^sidecars/client/src/index\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'no runtime import cycles between modules (a type-only cycle, as between a class and the events map its parts use, is erased at build time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(?:node_modules|dist|\\.data)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
