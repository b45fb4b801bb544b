import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The WMI shim's C# travels inside the core as text (esbuild's text loader in build/bundle.mjs);
  // tests that import the hyperv barrel load it the same way.
  plugins: [
    {
      name: "cs-as-text",
      enforce: "pre",
      transform(code: string, id: string) {
        return id.endsWith(".cs") ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two workers even on two cores: most of a test's time is spent waiting for child processes
    // (the CLI, the lab, PowerShell), so a second worker roughly halves the suite's wall time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ["test/global_setup.ts"],
    reporters: ["default", "./test/summary_reporter.ts"],
  },
});
