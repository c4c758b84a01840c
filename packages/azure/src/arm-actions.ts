// Every Azure RBAC action the adapter's requests need, on the fleet's resource group. The custom
// role in infra/azure is this list; tests check that every request made against the local
// Azure maps to an action here (and that no delete of a disk or snapshot is among them).
// Action names: https://learn.microsoft.com/azure/role-based-access-control/permissions/compute,
// .../permissions/networking, .../permissions/management-and-governance.
export const ARM_ACTIONS = [
  // Resource group: created with azure.tags when missing; the rollout lease is a tag on it.
  "Microsoft.Resources/subscriptions/resourceGroups/read",
  "Microsoft.Resources/subscriptions/resourceGroups/write",
  // The lease's claims and holder, and azure.tags on an existing group, are written with the Tags
  // API's Merge and Delete, which change only the named tags (a resource group PATCH replaces the
  // whole set, and would erase a lease another run took since it was read).
  "Microsoft.Resources/tags/write",

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

  // Data disks: created, tagged, grown, snapshotted — never deleted (no disks/delete here).
  "Microsoft.Compute/disks/read",
  "Microsoft.Compute/disks/write",
  // Snapshots: taken before a replace; this product's own beyond rollout.snapshots_kept are
  // deleted after it. Azure RBAC has no condition that narrows snapshots/delete to some snapshots
  // of a resource group, so the code does: it deletes only snapshots tagged with the claw and
  // named as it names them.
  "Microsoft.Compute/snapshots/read",
  "Microsoft.Compute/snapshots/write",
  "Microsoft.Compute/snapshots/delete",

  // VM size capabilities (resource SKUs API), checked before a VM is taken down. Read at
  // subscription scope: an assignment on the resource group alone does not reach it, and the
  // check then covers the image definition only (see the README).
  "Microsoft.Compute/skus/read",

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

  // Key Vault secrets (secrets.key_vault): the vault is created with RBAC when missing, never
  // deleted; secrets are listed through ARM, which returns names and version ids, never a value
  // (reading a value is a data action, which neither role holds); each claw's VM identity gets
  // Key Vault Secrets User on its own secret. roleAssignments/write lets the holder grant roles in
  // the resource group: the README (Permissions) shows the condition that limits it to that role.
  "Microsoft.KeyVault/vaults/read",
  "Microsoft.KeyVault/vaults/write",
  "Microsoft.KeyVault/vaults/secrets/read",
  "Microsoft.Authorization/roleAssignments/read",
  "Microsoft.Authorization/roleAssignments/write",
] as const;

export type ArmAction = (typeof ARM_ACTIONS)[number];

/**
 * What the un-gated identity writes: bake creates a missing resource group (an existing one's tags
 * need the Tags API, which this identity does not get: deploy-fleet sets them) and keeps the
 * gallery as the manifest says.
 */
const BAKE_WRITES: readonly ArmAction[] = [
  "Microsoft.Resources/subscriptions/resourceGroups/write",
  "Microsoft.Compute/galleries/write",
  "Microsoft.Compute/galleries/images/write",
  "Microsoft.Compute/galleries/images/versions/write",
];

/**
 * Reads only apply makes: Run Command's (its results come from a command run as root on a claw)
 * and the size catalogue apply checks a new VM against before taking the old one down.
 */
const APPLY_ONLY_READS: readonly ArmAction[] = [
  "Microsoft.Compute/virtualMachines/runCommands/read",
  "Microsoft.Compute/skus/read",
];

/**
 * The un-gated identity's actions (infra/azure/fleet-reader-role.json), derived from ARM_ACTIONS:
 * every read but apply's own (APPLY_ONLY_READS), and bake's writes to the gallery. It runs on every push to the
 * deploy branch without approval, so it cannot create, change or delete a VM, NIC, public IP,
 * disk, snapshot, network or NSG. Run Command executes as root on a claw, so it is the operator's
 * (never this role's).
 */
export const READER_ACTIONS: readonly ArmAction[] = ARM_ACTIONS.filter(
  (a) => (a.endsWith("/read") && !APPLY_ONLY_READS.includes(a)) || BAKE_WRITES.includes(a),
);

/**
 * What the operator needs at subscription scope (infra/azure/fleet-size-reader-role.json, assigned
 * on the subscription by infra/azure/bootstrap-oidc.sh): the size catalogue, which Azure serves
 * only there (https://learn.microsoft.com/rest/api/compute/resource-skus/list). Every other action
 * is granted on the fleet's resource group.
 */
export const SIZE_READER_ACTIONS: readonly ArmAction[] = ["Microsoft.Compute/skus/read"];

/**
 * The power schedule's identity (infra/azure/fleet-power-role.json): it runs unattended on a cron,
 * so it is neither the approved operator nor the reader. It reads the fleet as plan does, takes
 * the rollout lease (resource group tags) and marks a VM it parks (a VM tag), both through the
 * Tags API (tags/write, which changes tags and nothing else of the resource), and deallocates and
 * starts VMs. It cannot create, change or delete anything else: no VM property, disk, snapshot,
 * NIC, network, NSG or gallery, and it cannot run a command on a claw.
 */
export const POWER_ACTIONS: readonly ArmAction[] = [
  // What plan reads (the reader's reads, but the Key Vault's and role assignments': the schedule
  // never looks at secrets), and the resource group's tags: the lease.
  ...READER_ACTIONS.filter((a) => a.endsWith("/read") && !/^Microsoft\.(KeyVault|Authorization)\//.test(a)),
  // The lease's claim and holder tags and the park mark, written through the Tags API
  // (lease.ts, power.ts).
  "Microsoft.Resources/tags/write",
  "Microsoft.Compute/virtualMachines/deallocate/action",
  "Microsoft.Compute/virtualMachines/start/action",
];
