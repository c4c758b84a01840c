#!/usr/bin/env node
// Launcher for the CLI: runs the built dist/cli.js (after `npm run build`), or the TypeScript
// source through tsx when there is no build (or LOCAL_AZURE_FROM_SOURCE=1).
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
let cli;
if (existsSync(dist) && process.env.LOCAL_AZURE_FROM_SOURCE !== "1") {
  cli = await import(pathToFileURL(dist).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(new URL("../src/cli.ts", import.meta.url).href);
}
await cli.main(process.argv.slice(2));
