import type { Finding } from "@openclawps/action-kit";
import { collectPayload, type Payload } from "@openclawps/cloud-init";
import { checkPayload } from "./payload-check.ts";
import { checkReplacedFiles } from "./replaced-files-check.ts";
import { checkUpdateScripts } from "./update-scripts.ts";
import { mergeVmRuntime, type VmRuntimeTree } from "./vm-runtime-tree.ts";

export interface VmRuntimeCheck {
  /** The merged shipped + overlay tree. */
  tree: VmRuntimeTree;
  /** What cloud-init writes onto a claw. */
  payload: Payload;
  /** Update script names and numbers (the same numbers shipped and in the overlay, ...). */
  updateFindings: Finding[];
  /**
   * Payload problems not already said by an update finding, overlay files that never ship, and
   * overlay versions.env or unit files that would break the claw.
   */
  payloadFindings: Finding[];
}

/**
 * The vm-runtime a claw would get, checked: one rule for validate and deploy-fleet, so what
 * validate refuses (an overlay update that reuses a shipped number, ...) deploy-fleet refuses too.
 */
export function checkVmRuntime(options: {
  workspace: string;
  shipped: string;
  overlay?: string;
}): VmRuntimeCheck {
  const overlay = options.overlay ? { overlay: options.overlay } : {};
  const tree = mergeVmRuntime({ shipped: options.shipped, ...overlay, workspace: options.workspace });
  const shippedTree = mergeVmRuntime({ shipped: options.shipped, workspace: options.workspace });
  const payload = collectPayload(options.shipped, options.overlay);
  const updateFindings = checkUpdateScripts(tree);
  const payloadFindings = checkPayload({
    payload,
    workspace: options.workspace,
    ...(options.overlay ? { overlayDir: options.overlay } : {}),
    alreadyReported: new Set(updateFindings.map((f) => f.file)),
  });
  payloadFindings.push(...checkReplacedFiles(tree, payload, shippedTree));
  return { tree, payload, updateFindings, payloadFindings };
}
