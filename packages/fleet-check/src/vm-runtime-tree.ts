import { NOT_PAYLOAD_DIRECTORIES, type RefusedEntry, walkShippedTree } from "@openclawps/cloud-init";
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
  /** Links and special files in either tree: never read, never shipped; each is an error. */
  refused: RefusedEntry[];
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
  const shippedTree = walkShippedTree(options.shipped, NOT_PAYLOAD_DIRECTORIES);
  const overlayTree = options.overlay ? walkShippedTree(options.overlay, NOT_PAYLOAD_DIRECTORIES) : undefined;
  const shipped = shippedTree.files.map(
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
    for (const { rel, abs, mode } of overlayTree?.files ?? []) {
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
  return { files, refused: [...shippedTree.refused, ...(overlayTree?.refused ?? [])] };
}
