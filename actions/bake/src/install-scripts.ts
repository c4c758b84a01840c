// The scripts the baseline template runs on the build VM: vm-runtime/install/desktop/*.sh of
// the merged vm-runtime (shipped with the actions, with the fleet repository's overlay adding
// or replacing files, as validate and deploy-fleet see it). They are copied into one staging
// directory that the template reads through its `install_scripts_dir` variable, so the
// template needs to know nothing about overlays.
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { RuntimeFile, VmRuntimeTree } from "@openclawps/fleet-check";
import type { HashedFile } from "./content-hash.ts";

/** The template runs `*.sh` directly in this directory of vm-runtime, nothing below it. */
const INSTALL_SCRIPT = /^install\/desktop\/[^/]+\.sh$/;

/** The baseline install scripts, in the name order the template runs them. */
export function installScripts(tree: VmRuntimeTree): RuntimeFile[] {
  return tree.files
    .filter((f) => INSTALL_SCRIPT.test(f.rel))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** Copies the scripts into `stagingDir` (created) and returns them as content-hash inputs. */
export async function stageInstallScripts(scripts: RuntimeFile[], stagingDir: string): Promise<HashedFile[]> {
  await mkdir(stagingDir, { recursive: true });
  const staged: HashedFile[] = [];
  for (const script of scripts) {
    const name = script.rel.slice(script.rel.lastIndexOf("/") + 1);
    const target = join(stagingDir, name);
    await copyFile(script.abs, target);
    staged.push({ path: script.rel, absolutePath: target });
  }
  return staged;
}
