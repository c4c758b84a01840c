// Import for its effect, first thing in an action's main.ts:
//   import "@openclawps/action-kit/commonjs-globals";
// ssh2 (bundled through @openclawps/verify) is
// CommonJS and reads __dirname when it loads; an ESM bundle has none, so loading fails with
// "ReferenceError: __dirname is not defined". ESM evaluates imports in order, so this runs
// before any bundled module that needs it.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const scope = globalThis as { __filename?: string; __dirname?: string };
scope.__filename ??= fileURLToPath(import.meta.url);
scope.__dirname ??= dirname(scope.__filename);
