/**
 * The boundary check (`npm run lint:boundaries`, part of `npm test`): the layers of
 * docs/architecture.md, enforced by dependency-cruiser. Everything not allowed below is an error:
 * - inside a package (a folder under src/), files import each other freely, but a folder-private
 *   file (`_name.ts`) only from its own folder;
 * - across packages, only a lower layer's barrel (`src/<pkg>/mod.ts`);
 * - tests import barrels, except that test/unit/<pkg>/ may reach into src/<pkg>/ (it mirrors it).
 */
const LOWER = {
  base: [],
  cim: ["base"],
  disk: ["base"],
  vhdx: ["disk", "base"],
  vhd: ["disk", "base"],
  disks: ["vhdx", "vhd", "disk", "base"],
  hyperv: ["cim", "base"],
  repository: ["disks", "vhdx", "vhd", "disk", "base"],
  lab: ["cim", "disks", "vhdx", "vhd", "disk", "base"],
  engine: ["hyperv", "repository", "disks", "vhdx", "vhd", "disk", "cim", "base"],
  cli: ["engine", "lab", "hyperv", "repository", "disks", "vhdx", "vhd", "disk", "cim", "base"],
};
const barrels = (pkgs) => `^src/(${pkgs.join("|")})/mod\\.ts$`;

module.exports = {
  allowedSeverity: "error",
  allowed: [
    { comment: "node's own modules", from: {}, to: { dependencyTypes: ["core"] } },
    { comment: "inside one package", from: { path: "^src/([^/]+)/" }, to: { path: "^src/$1/" } },
    { comment: "ambient declarations (text imports)", from: { path: "^src/" }, to: { path: "^src/types/" } },
    ...Object.entries(LOWER)
      .filter(([, lower]) => lower.length > 0)
      .map(([pkg, lower]) => ({ comment: `${pkg} uses the barrels of the layers below it`, from: { path: `^src/${pkg}/` }, to: { path: barrels(lower) } })),
    { comment: "tests use barrels", from: { path: "^(test|bench)/" }, to: { path: "^src/[^/]+/mod\\.ts$" } },
    { comment: "a unit test reaches into the package it mirrors", from: { path: "^test/unit/([^/]+)/" }, to: { path: "^src/$1/" } },
    { comment: "tests share helpers", from: { path: "^test/" }, to: { path: "^test/" } },
    { comment: "test and build tools", from: { path: "^(test|bench|build)/" }, to: { dependencyTypes: ["npm-dev", "npm", "npm-optional"] } },
  ],
  forbidden: [
    {
      name: "private-file",
      comment: "a folder-private file (_name.ts) is imported only from its own folder",
      severity: "error",
      from: { path: "^(src/.*/)[^/]+$" },
      to: { path: "^src/.*/_[^/]+$", pathNot: "^$1_[^/]+$" },
    },
    {
      name: "private-file-in-tests",
      comment: "a unit test may use the private files of the one folder it mirrors",
      severity: "error",
      from: { path: "^test/unit/(.*/)[^/]+$" },
      to: { path: "^src/.*/_[^/]+$", pathNot: "^src/$1_[^/]+$" },
    },
    { name: "no-circular-packages", comment: "no cycles", severity: "error", from: { path: "^src/" }, to: { circular: true, viaOnly: { pathNot: "^src/([^/]+)/" } } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|^docs/|^module/bin/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".d.ts", ".mjs", ".js", ".cs"] },
  },
};
