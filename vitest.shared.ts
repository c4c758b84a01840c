import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "source" condition, so tests
// run against src/ without a build step.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
