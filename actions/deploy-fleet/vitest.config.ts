import { mergeConfig } from "vitest/config";
import shared, { runsBundles } from "../../vitest.shared.ts";

// The tests run the bundled action (dist/index.js) the way the runner does: never a stale one.
export default mergeConfig(shared, runsBundles);
