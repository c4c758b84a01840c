// npm run release:tree -- --out DIR --tag v1.2.3 [--no-bundle]
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildReleaseTree, checkReleaseTree } from "./tree.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "release" },
    tag: { type: "string", default: "v1" },
    "no-bundle": { type: "boolean", default: false },
  },
});
const root = resolve(import.meta.dirname, "../../..");
if (!values["no-bundle"]) {
  execFileSync("npx", ["turbo", "run", "bundle", "--output-logs=errors-only"], {
    cwd: root,
    stdio: "inherit",
  });
}
const out = resolve(process.cwd(), values.out);
const tree = buildReleaseTree({ root, out, tag: values.tag });
const problems = await checkReleaseTree(out, values.tag);
console.log(
  `Release tree for ${values.tag} in ${out}: actions ${tree.actions.join(", ")}; workflows ${tree.workflows.join(", ")}`,
);
if (problems.length) {
  for (const p of problems) console.error(`::error::${p}`);
  process.exit(1);
}
