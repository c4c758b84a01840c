// Where each claw answers SSH, and which host key it must present: public IPs and the VM's
// host-key tag, read through ARM (an authenticated channel) with three list calls.
import { TAGS } from "@openclawps/fleet-model";
import { listAll } from "./arm-read.ts";
import type { AzureContext } from "./connect.ts";
import { primaryIpConfiguration } from "./network-client.ts";
import { sameId } from "./resource-ids.ts";

export interface ClawEndpoint {
  name: string;
  /** Public IP address; undefined when the claw has a VM but no public IP (yet). */
  host: string | undefined;
  port: 22;
  /** "SHA256:..." from the VM's TAGS.hostKey; undefined for VMs deploy-fleet did not create. */
  hostKeyFingerprint?: string;
  vmId: string;
}

/**
 * Endpoints of the claws (VMs tagged with a claw name, or named like one of `claws` for seed
 * VMs not yet adopted), in the order of `claws` when given. Claws with no VM are left out.
 */
export async function getClawEndpoints(ctx: AzureContext, claws?: string[]): Promise<ClawEndpoint[]> {
  const rg = ctx.resourceGroup;
  const [vms, nics, pips] = await Promise.all([
    listAll(ctx.compute.virtualMachines.list(rg), { missingOk: true }),
    listAll(ctx.network.networkInterfaces.list(rg), { missingOk: true }),
    listAll(ctx.network.publicIPAddresses.list(rg), { missingOk: true }),
  ]);
  const clawOf = (vm: (typeof vms)[number]) => vm.tags?.[TAGS.claw] ?? vm.name ?? "";
  const wanted = claws ? new Set(claws) : undefined;
  const out: ClawEndpoint[] = [];
  for (const vm of vms) {
    const name = clawOf(vm);
    if (wanted ? !wanted.has(name) : vm.tags?.[TAGS.claw] === undefined) continue;
    const nicRef =
      vm.networkProfile?.networkInterfaces?.find((n) => n.primary) ??
      vm.networkProfile?.networkInterfaces?.[0];
    const nic = nics.find((n) => sameId(n.id, nicRef?.id));
    const ipc = primaryIpConfiguration(nic);
    const pip = pips.find((p) => sameId(p.id, ipc?.publicIPAddress?.id));
    out.push({
      name,
      host: pip?.properties?.ipAddress,
      port: 22,
      hostKeyFingerprint: vm.tags?.[TAGS.hostKey],
      vmId: vm.id ?? "",
    });
  }
  if (claws) out.sort((a, b) => claws.indexOf(a.name) - claws.indexOf(b.name));
  return out;
}
