// Which claws to verify and where they answer: the explicit `targets` input, or the manifest's
// claws located through ARM (public IP and the host-key tag deploy-fleet recorded, read over an
// authenticated channel).
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { annotate, type Reporter, UserError } from "@openclawps/action-kit";
import { type AzureContext, describeAzureError, getClawEndpoints } from "@openclawps/azure";
import { DEFAULT_ADMIN_USERNAME, parseManifest, resolveFleet } from "@openclawps/fleet-model";
import type { RunCommandTarget, VerifyTarget } from "@openclawps/verify";
import type { VerifyInputs } from "./inputs.ts";

export interface TargetPlan {
  /** Claws to connect to over SSH, in manifest (or input) order. */
  targets: VerifyTarget[];
  /** The same claws' VMs, for Run Command (empty with the targets input). */
  vms: RunCommandTarget[];
  /** The connection the claws were found with (absent with the targets input). */
  ctx?: AzureContext;
  /** Claws that cannot be verified at all (no VM), with the reason. */
  missing: { name: string; error: string }[];
  /** Every selected claw, in order. */
  order: string[];
  /** Where claws are declared, for annotations: the manifest as the user names it, and a claw's line. */
  manifest?: { display: string; lineOf(claw: string): number | undefined };
  /** One phrase for logs and the summary: where the targets came from. */
  source: string;
}

/**
 * Connects to the fleet's resource group. The action's reads the Azure identity inputs only
 * then: explicit targets need none.
 */
export type AzureConnector = (resourceGroup: string) => AzureContext;

export async function resolveTargets(
  inputs: VerifyInputs,
  workspace: string,
  connect: AzureConnector,
  reporter: Reporter,
): Promise<TargetPlan> {
  return inputs.targets
    ? explicitTargets(inputs, inputs.targets)
    : await targetsFromAzure(inputs, workspace, connect, reporter);
}

function explicitTargets(inputs: VerifyInputs, all: VerifyTarget[]): TargetPlan {
  const targets = selectByName(all, inputs.claws, "the targets input");
  const withUser = targets.map((t) => ({
    ...t,
    username: t.username || inputs.username || DEFAULT_ADMIN_USERNAME,
  }));
  return {
    targets: withUser,
    vms: [],
    missing: [],
    order: withUser.map((t) => t.name),
    source: "the targets input",
  };
}

async function targetsFromAzure(
  inputs: VerifyInputs,
  workspace: string,
  connect: AzureConnector,
  reporter: Reporter,
): Promise<TargetPlan> {
  const abs = isAbsolute(inputs.manifest) ? inputs.manifest : resolve(workspace, inputs.manifest);
  const display = relative(workspace, abs) || inputs.manifest;
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new UserError(
      `Manifest '${display}' not found (and no targets input was given).`,
      "Set the manifest input to claws.yaml's path relative to the repository root (check out the repository first), or (with transport: ssh) pass targets.",
    );
  }
  const parse = parseManifest(readFileSync(abs), display);
  if (!parse.manifest) {
    const errors = parse.problems.filter((p) => p.severity === "error");
    annotate(
      parse.problems.map((p) => ({
        file: p.file,
        line: p.line,
        column: p.column,
        message: p.message,
        severity: p.severity,
        title: "claws.yaml",
        ...(p.fix ? { fix: p.fix } : {}),
        ...(p.endLine ? { endLine: p.endLine } : {}),
        ...(p.endColumn ? { endColumn: p.endColumn } : {}),
      })),
      reporter,
    );
    const first = errors[0];
    throw new UserError(
      `${display} has ${errors.length} problem(s), annotated on their lines${first ? `; the first, line ${first.line}: ${first.message}` : ""}.`,
      "Correct them in the manifest; the validate action reports the same problems on pull requests.",
    );
  }
  const fleet = resolveFleet(parse.manifest, display);
  const live = fleet.claws.filter((c) => !c.retired);
  const retired = new Set(fleet.claws.filter((c) => c.retired).map((c) => c.name));
  for (const name of inputs.claws) {
    if (retired.has(name)) {
      throw new UserError(
        `Input 'claws': ${name} is retired in ${display}: it has no VM to verify.`,
        "Leave it out of claws.",
      );
    }
  }
  const selected = selectByName(live, inputs.claws, display);
  const names = selected.map((c) => c.name);

  const ctx = connect(fleet.azure.resource_group_name);
  let endpoints: Awaited<ReturnType<typeof getClawEndpoints>>;
  try {
    endpoints = names.length ? await getClawEndpoints(ctx, names) : [];
  } catch (err) {
    throw new UserError(
      `Reading the claws' addresses and host keys in resource group ${ctx.resourceGroup} failed: ${describeAzureError(err, { clientId: ctx.options.clientId })}`,
    );
  }
  const byName = new Map(endpoints.map((e) => [e.name, e]));
  const targets: VerifyTarget[] = [];
  const vms: RunCommandTarget[] = [];
  const missing: TargetPlan["missing"] = [];
  for (const claw of selected) {
    const e = byName.get(claw.name);
    if (!e) {
      missing.push({ name: claw.name, error: `no VM for this claw in resource group ${ctx.resourceGroup}` });
      continue;
    }
    targets.push({
      name: claw.name,
      host: e.host ?? "",
      port: e.port,
      ...(e.hostKeyFingerprint ? { hostKeyFingerprint: e.hostKeyFingerprint } : {}),
      username: inputs.username || claw.settings.admin_username,
    });
    vms.push({ name: claw.name, vm: e.vmId });
  }
  return {
    targets,
    vms,
    ctx,
    missing,
    order: names,
    manifest: { display, lineOf: (claw) => parse.locate(`claws.${claw}`).line },
    source: `${display}, resource group ${ctx.resourceGroup}`,
  };
}

function selectByName<T extends { name: string }>(all: T[], wanted: string[], where: string): T[] {
  if (wanted.length === 0) return all;
  const known = new Set(all.map((c) => c.name));
  const unknown = wanted.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UserError(
      `Input 'claws' names ${unknown.join(", ")}, not in ${where}.`,
      `Known claws: ${[...known].join(", ") || "(none)"}.`,
    );
  }
  const set = new Set(wanted);
  return all.filter((c) => set.has(c.name));
}
