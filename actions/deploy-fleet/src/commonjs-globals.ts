// ssh2 (bundled through @openclawps/cloud-init, which makes host keys with it) is CommonJS and
// reads __dirname when it loads; an ESM bundle has none, so loading fails with "ReferenceError:
// __dirname is not defined". Imported first by main.ts so it runs before any bundled module.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const scope = globalThis as { __filename?: string; __dirname?: string };
scope.__filename ??= fileURLToPath(import.meta.url);
scope.__dirname ??= dirname(scope.__filename);
