// Adopting what a seed-era deployment created: resources named the seed's way that carry no claw
// tag are found in the observed fleet (pure, for the plan) and tagged as the claw's on apply (the
// only writes here; observe.ts only reads).
import type { ObservedFleet, ResolvedFleet } from "@openclawps/fleet-model";
import { TAGS } from "@openclawps/fleet-model";
import type { AzureContext } from "./connect.ts";
import { sameId } from "./resource-ids.ts";
import { clawTags, mergeTags } from "./resource-tags.ts";
export interface SeedResource {
  claw: string;
  kind: "vm" | "nic" | "publicIp" | "disk";
  name: string;
  id: string;
}

/**
 * Resources named the seed's way (`{claw}`, `{claw}-nic`, `{claw}-pip`, `{claw}-data`) that carry
 * no claw tag yet. Pure: plan mode reports them; apply tags them with adoptSeedResources.
 */
export function seedResourcesToAdopt(
  fleet: Pick<ResolvedFleet, "claws">,
  observed: ObservedFleet,
): SeedResource[] {
  const out: SeedResource[] = [];
  // Each list indexed once by name (Azure names are case-insensitive): linear in claws plus
  // resources, where a scan per claw was quadratic (0.3 s of plan at 1000 claws).
  const untaggedByName = <T extends { name: string; id: string; tags: Record<string, string> }>(
    list: T[],
  ) => {
    const byName = new Map<string, T>();
    for (const r of list) {
      if (r.tags[TAGS.claw] !== undefined) continue;
      const key = r.name.toLowerCase();
      if (!byName.has(key)) byName.set(key, r);
    }
    return (name: string) => byName.get(name.toLowerCase());
  };
  const vm = untaggedByName(observed.vms);
  const nic = untaggedByName(observed.nics);
  const publicIp = untaggedByName(observed.publicIps);
  const disk = untaggedByName(observed.disks);
  for (const claw of fleet.claws) {
    const candidates: [SeedResource["kind"], { name: string; id: string } | undefined][] = [
      ["vm", vm(claw.names.vm)],
      ["nic", nic(claw.names.nic)],
      ["publicIp", publicIp(claw.names.publicIp)],
      ["disk", disk(claw.names.dataDisk)],
    ];
    for (const [kind, r] of candidates) if (r) out.push({ claw: claw.name, kind, name: r.name, id: r.id });
  }
  return out;
}

/**
 * Tags each untagged seed-named resource with the claw's tags (merged into what it has), so
 * later observes and the orphan check recognise it. Apply mode only: plan mode makes no writes.
 * Returns what was tagged; the observed fleet is updated in place.
 */
export async function adoptSeedResources(
  ctx: AzureContext,
  fleet: Pick<ResolvedFleet, "claws" | "azure">,
  observed: ObservedFleet,
): Promise<SeedResource[]> {
  const adopt = seedResourcesToAdopt(fleet, observed);
  const rg = ctx.resourceGroup;
  await Promise.all(
    adopt.map(async (r) => {
      const claw = fleet.claws.find((c) => c.name === r.claw)!;
      const wanted = clawTags(fleet, claw);
      switch (r.kind) {
        case "vm": {
          const o = observed.vms.find((v) => sameId(v.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.compute.virtualMachines.update(rg, r.name, { tags: o.tags }, ctx.poll);
          break;
        }
        case "disk": {
          const o = observed.disks.find((d) => sameId(d.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.compute.disks.update(rg, r.name, { tags: o.tags }, ctx.pollFor("disk"));
          break;
        }
        case "nic": {
          const o = observed.nics.find((n) => sameId(n.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.network.networkInterfaces.updateTags(rg, r.name, { tags: o.tags });
          break;
        }
        case "publicIp": {
          const o = observed.publicIps.find((p) => sameId(p.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.network.publicIPAddresses.updateTags(rg, r.name, { tags: o.tags });
          break;
        }
      }
    }),
  );
  return adopt;
}
