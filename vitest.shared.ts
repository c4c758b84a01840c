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
  },
});
