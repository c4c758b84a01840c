import { mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The tests run the bundled action (dist/index.js) the way the runner does; the bundle is
// built once per run, in globalSetup.
export default mergeConfig(shared, { test: { globalSetup: ["test/bundle-once.ts"] } });
