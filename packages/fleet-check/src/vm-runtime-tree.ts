import { readdirSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { displayPath } from "./repo-paths.ts";

/** One file of the vm-runtime a claw would get: shipped with the actions, or from the fleet's overlay. */
export interface RuntimeFile {
  /** Path inside vm-runtime, forward slashes: `updates/018-foo.sh`. */
  rel: string;
  abs: string;
  origin: "shipped" | "overlay";
  /** Where findings point: the overlay file in the fleet repo, or the shipped file. */
  display: string;
  /** File mode bits (permissions). */
  mode: number;
  /** For an overlay file: it replaces the shipped file of the same path. */
  replacesShipped: boolean;
}

export interface VmRuntimeTree {
  /** Every file, overlay winning over shipped, sorted by `rel`. */
  files: RuntimeFile[];
}

/** Prefix for shipped files that are not inside the repository being validated. */
export const SHIPPED_LABEL = "openclawps-actions/vm-runtime";

/**
 * The merged view of vm-runtime: the shipped tree with the overlay's files added or replacing
 * shipped ones at the same path (design.md, "Where vm-runtime comes from").
 */
export function mergeVmRuntime(options: {
  shipped: string;
  overlay?: string;
  workspace: string;
}): VmRuntimeTree {
  const shippedDisplay = (rel: string, abs: string) => {
    const shown = displayPath(options.workspace, abs);
    return shown.startsWith("/") ? `${SHIPPED_LABEL}/${rel}` : shown;
  };
  const shipped = listFiles(options.shipped).map(
    ({ rel, abs, mode }): RuntimeFile => ({
      rel,
      abs,
      mode,
      origin: "shipped",
      display: shippedDisplay(rel, abs),
      replacesShipped: false,
    }),
  );
  const byRel = new Map(shipped.map((f) => [f.rel, f]));
  if (options.overlay) {
    for (const { rel, abs, mode } of listFiles(options.overlay)) {
      byRel.set(rel, {
        rel,
        abs,
        mode,
        origin: "overlay",
        display: displayPath(options.workspace, abs),
        replacesShipped: byRel.get(rel)?.origin === "shipped",
      });
    }
  }
  const files = [...byRel.values()].sort((a, b) => a.rel.localeCompare(b.rel));
  return { files };
}

/** Regular files under root, following symbolic links as cloud-init's payload does (broken ones are its to report). */
function listFiles(root: string, prefix = ""): { rel: string; abs: string; mode: number }[] {
  const out: { rel: string; abs: string; mode: number }[] = [];
  for (const name of readdirSync(join(root, prefix)).sort()) {
    if (name === ".git" || name === "node_modules") continue;
    const rel = prefix ? `${prefix}/${name}` : name;
    const abs = join(root, rel);
    let stat: Stats;
    try {
      stat = statSync(abs);
    } catch {
      continue;
    }
    if (stat.isDirectory()) out.push(...listFiles(root, rel));
    else if (stat.isFile()) out.push({ rel, abs, mode: stat.mode });
  }
  return out;
}
