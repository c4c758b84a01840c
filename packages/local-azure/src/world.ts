// The state of the simulated subscription: resource groups, resources and the long-running
// operations in flight. Plain JSON so it can be persisted and shared between processes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { OperationKind } from "./operation-kind.ts";

/** A resource as ARM returns it, plus bookkeeping the API never shows. */
export interface StoredResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  properties: Record<string, unknown>;
  [key: string]: unknown;
  /** Never serialized to clients (e.g. customData, power state). */
  hidden?: Record<string, unknown>;
}

export interface ResourceGroupRecord {
  id: string;
  name: string;
  type: "Microsoft.Resources/resourceGroups";
  location: string;
  tags?: Record<string, string>;
  managedBy?: string;
  properties: { provisioningState: "Succeeded" | "Deleting" };
}

export type OperationStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

/** A long-running operation: what the Azure-AsyncOperation and Location URLs report on. */
export interface OperationRecord {
  id: string;
  /** Resource provider namespace whose URL format the polling links use. */
  namespace: string;
  location: string;
  /** What to do when it finishes; a key into the completion table. */
  completion: string;
  resourceId: string;
  /** Extra, completion-specific data (JSON). */
  data?: Record<string, unknown>;
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  /** Epoch ms at which the operation finishes; null = never (an injected hang). */
  readyAt: number | null;
  /** When set, the operation ends Failed with this error (an injected LRO failure). */
  failWith?: { code: string; message: string };
  error?: { code: string; message: string };
  /** Body the Location URL returns once done (POST actions that produce a result). */
  result?: unknown;
  /** Kind of operation, for the Retry-After of its status answers (absent in older state files). */
  kind?: OperationKind;
  /** Status answers given while it ran. */
  statusAnswers?: number;
}

export interface WorldState {
  version: 1;
  resourceGroups: Record<string, ResourceGroupRecord>;
  /** Keyed by lower-cased resource id; insertion order is list order. */
  resources: Record<string, StoredResource>;
  operations: Record<string, OperationRecord>;
  /** Counter behind public IP allocation from 127.0.0.0/8. */
  nextPublicIp: number;
  /** Lower-cased VM sizes restricted for the subscription (NotAvailableForSubscription), everywhere. */
  restrictedVmSizes?: string[];
}

export function emptyWorld(): WorldState {
  return { version: 1, resourceGroups: {}, resources: {}, operations: {}, nextPublicIp: 0 };
}

export function loadWorld(file: string | undefined): WorldState {
  if (!file || !existsSync(file)) return emptyWorld();
  const text = readFileSync(file, "utf8");
  if (text.trim() === "") return emptyWorld();
  const parsed = JSON.parse(text) as WorldState;
  if (parsed.version !== 1) {
    throw new Error(
      `${file}: unsupported local-azure state version ${String(parsed.version)}; delete the file`,
    );
  }
  return parsed;
}

/** Writes atomically (temp file + rename) so a reader in another process never sees half a file. */
export function saveWorld(file: string, world: WorldState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(world));
  renameSync(tmp, file);
}

export function key(id: string): string {
  return id.toLowerCase();
}
