// What the baseline template uploads to the build VM: the install/desktop/*.sh scripts it runs
// and what they read (install/versions.env, install/lib/*.sh, install/npm's package.json and
// lockfile), from the merged vm-runtime (shipped with the actions, with the fleet repository's
// overlay adding or replacing files, as validate and deploy-fleet see it). They are copied into
// one staging directory, `<staging>/install`, laid out as vm-runtime/install is: the template
// reads the scripts through its `install_scripts_dir` variable (`<staging>/install/desktop`)
// and uploads its parent, so the template needs to know nothing about overlays. Every staged
// file is a content-hash input: a pin that changes changes the image.
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RuntimeFile, VmRuntimeTree } from "@openclawps/fleet-check";
import type { HashedFile } from "./content-hash.ts";

/** The template runs `*.sh` directly in this directory of vm-runtime, nothing below it. */
const INSTALL_SCRIPT = /^install\/desktop\/[^/]+\.sh$/;
/** What the scripts read besides themselves: the pins, the shared shell, the npm lockfile. */
const BAKE_SUPPORT = /^install\/(?:versions\.env|lib\/[^/]+\.sh|npm\/package(?:-lock)?\.json)$/;

const byRel = (a: RuntimeFile, b: RuntimeFile) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);

/** The baseline install scripts, in the name order the template runs them. */
export function installScripts(tree: VmRuntimeTree): RuntimeFile[] {
  return tree.files.filter((f) => INSTALL_SCRIPT.test(f.rel)).sort(byRel);
}

/** The files the install scripts read on the build VM. */
export function installSupportFiles(tree: VmRuntimeTree): RuntimeFile[] {
  return tree.files.filter((f) => BAKE_SUPPORT.test(f.rel)).sort(byRel);
}

/**
 * Copies `files` (vm-runtime-relative `install/...`) below `stagingDir`, keeping their paths,
 * and returns them as content-hash inputs.
 */
export async function stageInstallFiles(files: RuntimeFile[], stagingDir: string): Promise<HashedFile[]> {
  const staged: HashedFile[] = [];
  for (const file of files) {
    const target = join(stagingDir, ...file.rel.split("/"));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(file.abs, target);
    staged.push({ path: file.rel, absolutePath: target });
  }
  return staged;
}
