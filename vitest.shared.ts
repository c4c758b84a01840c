import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "source" condition, so tests
// run against src/ without a build step.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  // Generous: many tests drive real tools (sshd, Packer, bash, booting guests) on a shared
  // 2-core machine whose load swings; timings are measured in bench/, never asserted here.
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Three files of a package at once. Vitest's default on 2 cores is one, so a package's files
    // ran in sequence and deploy-fleet's (guests, Key Vault guests, the bundle runs) alone took
    // 21 min; most of their time is spent waiting on guests, sshds and the local Azure, not CPU.
    maxWorkers: 3,
  },
});

/**
 * For test packages that run actions' bundles (dist/index.js) the way the runner does: before
 * any test, a bundle older than its sources is rebuilt, or under turbo the run fails naming the
 * command (scripts/fresh-bundle-setup.ts). The package's own bundle for an action; every
 * action's for release and rehearsal.
 */
export const runsBundles = defineConfig({
  test: { globalSetup: [fileURLToPath(new URL("scripts/fresh-bundle-setup.ts", import.meta.url))] },
});
