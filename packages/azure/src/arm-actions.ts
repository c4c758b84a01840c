// Every Azure RBAC action the adapter's requests need, on the fleet's resource group. The custom
// role in infra/azure is this list; tests check that every request made against the local
// Azure maps to an action here (and that no delete of a disk or snapshot is among them).
// Action names: https://learn.microsoft.com/azure/role-based-access-control/permissions/compute,
// .../permissions/networking, .../permissions/management-and-governance.
export const ARM_ACTIONS = [
  // Resource group: ensure it exists with azure.tags; the rollout lease is a tag on it.
  "Microsoft.Resources/subscriptions/resourceGroups/read",
  "Microsoft.Resources/subscriptions/resourceGroups/write",

  // Shared network: created when missing, never deleted.
  "Microsoft.Network/virtualNetworks/read",
  "Microsoft.Network/virtualNetworks/write",
  "Microsoft.Network/virtualNetworks/subnets/read",
  "Microsoft.Network/virtualNetworks/subnets/write",
  // A NIC in the subnet / with the NSG / holding the public IP is a linked-access check.
  "Microsoft.Network/virtualNetworks/subnets/join/action",
  "Microsoft.Network/networkSecurityGroups/read",
  "Microsoft.Network/networkSecurityGroups/write",
  "Microsoft.Network/networkSecurityGroups/join/action",

  // Per-claw network: created with the claw, deleted when it retires.
  "Microsoft.Network/publicIPAddresses/read",
  "Microsoft.Network/publicIPAddresses/write",
  "Microsoft.Network/publicIPAddresses/delete",
  "Microsoft.Network/publicIPAddresses/join/action",
  "Microsoft.Network/networkInterfaces/read",
  "Microsoft.Network/networkInterfaces/write",
  "Microsoft.Network/networkInterfaces/delete",
  "Microsoft.Network/networkInterfaces/join/action",

  // VMs: disposable.
  "Microsoft.Compute/virtualMachines/read",
  "Microsoft.Compute/virtualMachines/write",
  "Microsoft.Compute/virtualMachines/delete",
  "Microsoft.Compute/virtualMachines/deallocate/action",
  "Microsoft.Compute/virtualMachines/start/action",

  // Verification through managed Run Command (the default transport): runs verify.sh as root
  // on a claw's VM through its agent, reads the result, deletes the Run Command. Whoever holds
  // runCommands/write can run any code as root on every VM in the resource group.
  "Microsoft.Compute/virtualMachines/runCommands/read",
  "Microsoft.Compute/virtualMachines/runCommands/write",
  "Microsoft.Compute/virtualMachines/runCommands/delete",

  // Data disks and their snapshots: created, tagged, grown, snapshotted — never deleted.
  "Microsoft.Compute/disks/read",
  "Microsoft.Compute/disks/write",
  "Microsoft.Compute/snapshots/read",
  "Microsoft.Compute/snapshots/write",

  // Status of long-running operations (the Azure-AsyncOperation URLs pollers follow).
  "Microsoft.Network/locations/operations/read",
  "Microsoft.Compute/locations/operations/read",

  // Gallery: ensured by deploy-fleet; versions listed by deploy-fleet and bake, tagged by bake.
  "Microsoft.Compute/galleries/read",
  "Microsoft.Compute/galleries/write",
  "Microsoft.Compute/galleries/images/read",
  "Microsoft.Compute/galleries/images/write",
  "Microsoft.Compute/galleries/images/versions/read",
  "Microsoft.Compute/galleries/images/versions/write",
] as const;

export type ArmAction = (typeof ARM_ACTIONS)[number];

/**
 * The un-gated identity's actions (infra/azure/fleet-reader-role.json): what plan, drift and
 * verify's lookups read, and what bake writes to the gallery. It runs on every push to the
 * deploy branch without approval, so it cannot create, change or delete a VM, NIC, public IP,
 * disk, snapshot, network or NSG. Bake keeps the resource group and gallery as the manifest's
 * azure: block says (resourceGroups/write: tags; galleries, image definitions and versions).
 * Run Command executes as root on a claw, so it is the operator's (never this role's).
 */
export const READER_ACTIONS = [
  "Microsoft.Resources/subscriptions/resourceGroups/read",
  "Microsoft.Resources/subscriptions/resourceGroups/write",
  "Microsoft.Network/virtualNetworks/read",
  "Microsoft.Network/virtualNetworks/subnets/read",
  "Microsoft.Network/networkSecurityGroups/read",
  "Microsoft.Network/publicIPAddresses/read",
  "Microsoft.Network/networkInterfaces/read",
  "Microsoft.Compute/virtualMachines/read",
  "Microsoft.Compute/disks/read",
  "Microsoft.Compute/snapshots/read",
  "Microsoft.Network/locations/operations/read",
  "Microsoft.Compute/locations/operations/read",
  "Microsoft.Compute/galleries/read",
  "Microsoft.Compute/galleries/write",
  "Microsoft.Compute/galleries/images/read",
  "Microsoft.Compute/galleries/images/write",
  "Microsoft.Compute/galleries/images/versions/read",
  "Microsoft.Compute/galleries/images/versions/write",
] as const satisfies readonly ArmAction[];

/**
 * The power schedule's identity (infra/azure/fleet-power-role.json): it runs unattended on a cron,
 * so it is neither the approved operator nor the reader. It reads the fleet as plan does, takes
 * the rollout lease (a resource group tag), marks a VM it parks (a VM tag: virtualMachines/write,
 * which ARM grants for tags and for every other VM property alike; the code only writes tags),
 * deallocates and starts VMs. It cannot create or delete anything, write a disk, snapshot, NIC,
 * network, NSG or gallery, or run a command on a claw.
 */
export const POWER_ACTIONS: readonly ArmAction[] = [
  // What plan reads (the reader's reads), and the resource group's tags: the lease.
  ...READER_ACTIONS.filter(
    (a) => a.endsWith("/read") || a === "Microsoft.Resources/subscriptions/resourceGroups/write",
  ),
  "Microsoft.Compute/virtualMachines/write",
  "Microsoft.Compute/virtualMachines/deallocate/action",
  "Microsoft.Compute/virtualMachines/start/action",
];
