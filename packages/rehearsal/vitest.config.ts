import { defineConfig, mergeConfig } from "vitest/config";
import shared, { runsBundles } from "../../vitest.shared.ts";

// The tests run the actions' bundles (never stale ones: vitest.shared.ts runsBundles).
// @actions/workflow-parser imports its schema JSON without an import attribute, which Node's
// ESM loader refuses; inlining it lets vite transform that import. (Its published sourcemaps
// point at sources it does not ship: logLevel "error" keeps vite from listing each one.)
// A journey step runs whole workflows (a Packer build, plan, apply, drift): minutes on a busy
// machine, not the shared 60 s.
export default mergeConfig(
  mergeConfig(shared, runsBundles),
  defineConfig({
    logLevel: "error",
    test: { testTimeout: 300_000, server: { deps: { inline: ["@actions/workflow-parser"] } } },
  }),
);
