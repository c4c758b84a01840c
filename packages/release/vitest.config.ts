import { defineConfig, mergeConfig } from "vitest/config";
import shared, { runsBundles } from "../../vitest.shared.ts";

// The tests run the actions' bundles (never stale ones: vitest.shared.ts runsBundles).
// @actions/workflow-parser imports its schema JSON without an import attribute, which Node's
// ESM loader refuses; inlining it lets vite transform that import. (Its published sourcemaps
// point at sources it does not ship: logLevel "error" keeps vite from listing each one.)
export default mergeConfig(
  mergeConfig(shared, runsBundles),
  defineConfig({ logLevel: "error", test: { server: { deps: { inline: ["@actions/workflow-parser"] } } } }),
);
