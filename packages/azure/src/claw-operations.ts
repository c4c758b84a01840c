// Single-claw apply steps against Azure, upholding the design's apply invariants:
//   1. no code path deletes a data disk (this package never calls the disk delete operation);
//   2. a VM is deleted with its data disks detached (deleteOption Detach, enforced before the
//      delete), and the disk is tagged with the VM's image version before that;
//   3. before a replace the VM is deallocated (graceful shutdown) and, when enabled, an
//      incremental snapshot of the disk is taken;
//   4. a new VM attaches the existing disk at LUN 0 in its create request;
//   5. every step reads the current state first, so a re-run after a crash at any point
//      converges, and a converged claw costs no writes.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Disk, Snapshot, VirtualMachine } from "@azure/arm-compute";
import type { ClawPlan, DesiredClaw, DesiredFleet } from "@openclawps/fleet-model";
import { deriveResourceNames, formatDuration, TAGS } from "@openclawps/fleet-model";
import type { ClawOperations, OperationResult, StepReporter } from "@openclawps/rollout";
import { getIfExists, listAll } from "./arm-read.ts";
import { azureErrorCode, ClawStepError } from "./azure-error.ts";
import {
  DATA_DISK_LUN,
  dataDiskBody,
  nicBody,
  publicIpBody,
  snapshotBody,
  snapshotName,
  vmBody,
} from "./claw-resources.ts";
import type { AzureContext } from "./connect.ts";
import { grantSecretRead } from "./key-vault.ts";
import type { LroKind } from "./lro-polling.ts";
import { powerStateOf, vmImageVersion } from "./observe.ts";
import { ids, sameId } from "./resource-ids.ts";
import { mergeTags } from "./resource-tags.ts";
import { VmCreateCheck, VmCreateRefusedError } from "./vm-capabilities.ts";

/** What a new VM needs from the cloud-init renderer; a fresh host key per call. */
export interface ClawBootstrap {
  /** base64(gzip(cloud-config)) for osProfile.customData. */
  customData: string;
  /** Must equal the claw's desired configHash (the plan was computed from it). */
  configHash: string;
  /** Fingerprint ("SHA256:...") of the host key baked into customData; recorded in a VM tag. */
  hostKeyFingerprint: string;
  /**
   * Key Vault secrets: the version of the claw's secret current when the VM is created (the one
   * its first boot fetches); recorded in TAGS.secretVersion so a later rotation shows in the plan.
   */
  secretVersion?: string;
}

export type RenderClaw = (claw: DesiredClaw) => ClawBootstrap | Promise<ClawBootstrap>;

export interface AzureClawOperationsOptions {
  /** Produces customData + host key for a claw's new VM (deploy-fleet wires @openclawps/cloud-init). */
  render: RenderClaw;
  /** Recorded on every VM created and on snapshots (TAGS.rolloutId). */
  rolloutId: string;
  /** Incremental snapshot of the data disk before a replace (rollout.snapshot_before_replace). */
  snapshotBeforeReplace: boolean;
  /**
   * Snapshots this product made of a disk that are kept (rollout.snapshots_kept, default 3): once
   * a replace has taken a new one and the new VM runs, older ones beyond this are deleted. Only
   * snapshots tagged with the claw and named as snapshotName names them are ever deleted.
   */
  snapshotsKept?: number;
  /**
   * Longest a single step (one ARM request and its long-running operation) may take before the
   * claw fails with a timeout (default STEP_TIMEOUT_MS). Azure gives no such bound: a hung create
   * would otherwise hold the job, and the lease, until the job's own limit.
   */
  stepTimeoutMs?: number;
  /**
   * The run's cancellation (the runner's SIGINT/SIGTERM): aborts the step in flight at once, so
   * the rollout can report each claw and release the lease before the runner kills the job.
   */
  signal?: AbortSignal;
}

/** The run was cancelled while a step was in flight. */
export class StepCancelledError extends Error {
  constructor(step: string) {
    super(
      `the run was cancelled during ${step}; the operation may still be running in Azure. ` +
        "Apply again: every step reads before it writes, and the plan shows what is left",
    );
    this.name = "StepCancelledError";
  }
}

/** The abort signal of the step running in this async context (see step()). */
const stepSignal = new AsyncLocalStorage<AbortSignal>();

/** A GPU VM create from a gallery image takes minutes; an hour means Azure is stuck. */
export const STEP_TIMEOUT_MS = 60 * 60_000;

/** A step Azure did not finish in time. */
export class StepTimeoutError extends Error {
  constructor(step: string, ms: number) {
    super(
      `Azure did not finish ${step} within ${formatDuration(ms)}; the operation may still be running in Azure. ` +
        "Apply again once it has finished (the plan shows a VM still Creating or Deleting as blocked until then)",
    );
    this.name = "StepTimeoutError";
  }
}

type Vm = VirtualMachine & { name: string };

const SETTLE_TIMEOUT_MS = 30 * 60_000;
/** rollout.snapshots_kept when not given. */
const DEFAULT_SNAPSHOTS_KEPT = 3;
/**
 * Incremental snapshots Azure keeps of one disk at a time
 * (https://learn.microsoft.com/azure/virtual-machines/disks-incremental-snapshots#restrictions).
 */
export const INCREMENTAL_SNAPSHOT_CAP = 500;
/** Azure holds a deleted VM's NIC for about 180 s; a little more, then the refusal stands. */
const NIC_RESERVATION_WAIT_MS = 240_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class AzureClawOperations implements ClawOperations {
  private readonly rg: string;
  /** Image definition and size capabilities, read once per run, for the check before a VM goes down. */
  private readonly createCheck: VmCreateCheck;

  constructor(
    private readonly ctx: AzureContext,
    private readonly fleet: DesiredFleet,
    private readonly opts: AzureClawOperationsOptions,
  ) {
    this.rg = ctx.resourceGroup;
    const a = fleet.azure;
    this.createCheck = new VmCreateCheck(ctx, a.location, a.gallery_name, a.fleet_image_definition_name);
  }

  create(plan: ClawPlan, report: StepReporter): Promise<OperationResult> {
    return this.converge(plan, this.target(plan), report, { createDisk: true, snapshot: false });
  }

  recover(plan: ClawPlan, report: StepReporter): Promise<OperationResult> {
    return this.converge(plan, this.target(plan), report, { createDisk: false, snapshot: false });
  }

  replace(
    plan: ClawPlan,
    imageVersion: string,
    report: StepReporter,
    options: { rollback?: boolean } = {},
  ): Promise<OperationResult> {
    return this.converge(plan, imageVersion, report, {
      createDisk: false,
      snapshot: this.opts.snapshotBeforeReplace,
      rollback: options.rollback === true,
    });
  }

  async resize(plan: ClawPlan, report: StepReporter): Promise<OperationResult> {
    const claw = this.desired(plan);
    const name = claw.names.vm;
    let vm = await this.step(claw.name, "read", () => this.getVm(name));
    if (!vm) throw new ClawStepError(claw.name, "resize", new Error(`VM ${name} does not exist`));
    const size = claw.settings.vm_size;
    const ownerStopped = isOwnerStopped(vm);
    if (vm.hardwareProfile?.vmSize !== size) {
      // Checked while the VM still runs: a size Azure refuses leaves it as it is.
      await this.refuseUncreatable(
        claw.name,
        `resizing VM ${name} to ${size}`,
        {
          vmSize: size,
          trustedLaunch: vm.securityProfile?.securityType === "TrustedLaunch",
          ...(vm.plan?.name && vm.plan.publisher && vm.plan.product
            ? { plan: { name: vm.plan.name, publisher: vm.plan.publisher, product: vm.plan.product } }
            : {}),
          diskSkus: diskSkusOf(vm),
        },
        report,
      );
      // A VM keeps its disk controller through a resize unless the update asks for another: an
      // NVMe-only size needs NVMe, and a size without NVMe needs SCSI back
      // (https://learn.microsoft.com/azure/virtual-machines/enable-nvme-interface).
      const current = vm.storageProfile?.diskControllerType;
      const controller = await this.step(claw.name, "read", () =>
        this.createCheck.diskController(size, current),
      );
      // A size the current host cluster may not offer needs the VM deallocated first
      // (https://learn.microsoft.com/azure/virtual-machines/sizes/resize-vm).
      vm = await this.stopForChange(claw.name, vm, report);
      const tags = vm.tags;
      const from = vm.hardwareProfile?.vmSize;
      try {
        await this.step(
          claw.name,
          "resize",
          () =>
            this.ctx.compute.virtualMachines.update(
              this.rg,
              name,
              {
                hardwareProfile: { vmSize: size },
                ...(controller && controller !== current
                  ? { storageProfile: { diskControllerType: controller } }
                  : {}),
                tags: mergeTags(tags, { [TAGS.rolloutId]: this.opts.rolloutId }),
              },
              this.poll,
            ),
          report,
          `${from} → ${size}${controller && controller !== current ? ` (${controller} disk controller)` : ""}`,
        );
      } catch (err) {
        // Refused (no capacity, a size the VM cannot take): the claw runs again on its old size.
        const now = await this.mustGetVm(claw.name, name);
        report(claw.name, "restore", now.hardwareProfile?.vmSize);
        if (!ownerStopped) await this.ensureRunning(claw.name, now, report);
        throw new ClawRestoredError(
          err,
          ownerStopped
            ? `left deallocated at size ${now.hardwareProfile?.vmSize}, as its owner had it`
            : `started again at size ${now.hardwareProfile?.vmSize}`,
        );
      }
    }
    if (ownerStopped)
      return { claw: claw.name, vmId: vm.id, imageVersion: vmImageVersion(vm), leftDeallocated: true };
    await this.ensureRunning(claw.name, await this.mustGetVm(claw.name, name), report);
    return { claw: claw.name, vmId: vm.id, imageVersion: vmImageVersion(vm), ...parkedAgain(vm) };
  }

  async growDisk(plan: ClawPlan, report: StepReporter): Promise<OperationResult> {
    const claw = this.desired(plan);
    const disk = await this.step(claw.name, "read", () =>
      getIfExists(this.ctx.compute.disks.get(this.rg, claw.names.dataDisk)),
    );
    if (!disk)
      throw new ClawStepError(
        claw.name,
        "grow-disk",
        new Error(`data disk ${claw.names.dataDisk} does not exist`),
      );
    const vm = await this.step(claw.name, "read", () => this.getVm(claw.names.vm));
    if ((disk.diskSizeGB ?? 0) < claw.settings.data_disk_size_gb) {
      // Growing a disk attached to a running VM is only supported for some disk types and
      // sizes (https://learn.microsoft.com/azure/virtual-machines/linux/expand-disks#expand-without-downtime);
      // deallocating first works for all of them.
      if (vm && disk.managedBy && sameId(disk.managedBy, vm.id))
        await this.stopForChange(claw.name, vm, report);
      await this.grow(claw, disk, report);
    }
    if (vm) await this.ensureRunning(claw.name, await this.mustGetVm(claw.name, vm.name), report);
    return {
      claw: claw.name,
      dataDiskId: disk.id,
      vmId: vm?.id,
      imageVersion: vm ? vmImageVersion(vm) : undefined,
      ...(vm ? parkedAgain(vm) : {}),
    };
  }

  async retire(plan: ClawPlan, report: StepReporter): Promise<OperationResult> {
    const claw = plan.claw;
    const names = plan.desired?.names ?? seedNames(claw);
    const vm = await this.settle(claw, await this.step(claw, "read", () => this.getVm(names.vm)), report);
    const disk = await this.step(claw, "read", () =>
      getIfExists(this.ctx.compute.disks.get(this.rg, names.dataDisk)),
    );
    if (vm) await this.removeVm(claw, vm, disk, report, { snapshot: undefined });
    const nic = await this.step(claw, "read", () =>
      getIfExists(this.ctx.network.networkInterfaces.get(this.rg, names.nic)),
    );
    if (nic) await this.deleteNicWhenFree(claw, names.nic, report);
    const pip = await this.step(claw, "read", () =>
      getIfExists(this.ctx.network.publicIPAddresses.get(this.rg, names.publicIp)),
    );
    if (pip) {
      await this.step(
        claw,
        "delete-public-ip",
        () => this.ctx.network.publicIPAddresses.delete(this.rg, names.publicIp, this.pollFor("network")),
        report,
      );
    }
    if (disk) report(claw, "keep-disk", `${names.dataDisk} kept`);
    return { claw, dataDiskId: disk?.id };
  }

  /** Deallocates the claw's VM again after its upgrade (it carries the park mark from its create). */
  async park(claw: string, report: StepReporter): Promise<void> {
    const c = this.fleet.claws.find((x) => x.name === claw);
    const vm = await this.mustGetVm(claw, c?.names.vm ?? seedNames(claw).vm);
    await this.deallocate(claw, vm, report);
  }

  async markHealthy(claw: string, imageVersion: string): Promise<void> {
    const c = this.fleet.claws.find((x) => x.name === claw);
    const diskName = c?.names.dataDisk ?? seedNames(claw).dataDisk;
    const disk = await this.step(claw, "read", () => this.ctx.compute.disks.get(this.rg, diskName));
    if (disk.tags?.[TAGS.lastHealthyImage] === imageVersion) return;
    await this.step(claw, "mark-healthy", () =>
      this.ctx.compute.disks.update(
        this.rg,
        diskName,
        { tags: mergeTags(disk.tags, { [TAGS.lastHealthyImage]: imageVersion }) },
        this.pollFor("disk"),
      ),
    );
  }

  // ---------------------------------------------------------------- the create / recover / replace path

  private async converge(
    plan: ClawPlan,
    imageVersion: string,
    report: StepReporter,
    opts: {
      createDisk: boolean;
      snapshot: boolean;
      rollback?: boolean;
      /** Recreating the VM as it was after Azure refused its replacement: no second restore. */
      restoring?: { ownerStopped: boolean };
    },
  ): Promise<OperationResult> {
    const claw = this.desired(plan);
    const c = claw.name;
    const n = claw.names;
    const a = this.fleet.azure;

    // The image first: failing here leaves the claw untouched.
    const imageVersionId = ids.imageVersion(
      this.ctx,
      a.gallery_name,
      a.fleet_image_definition_name,
      imageVersion,
    );
    const image = await this.step(c, "read", () =>
      getIfExists(
        this.ctx.compute.galleryImageVersions.get(
          this.rg,
          a.gallery_name,
          a.fleet_image_definition_name,
          imageVersion,
        ),
      ),
    );
    if (!image) {
      throw new ClawStepError(
        c,
        "read",
        new Error(
          `image version ${imageVersion} does not exist in ${a.gallery_name}/${a.fleet_image_definition_name}`,
        ),
      );
    }

    // The network (public IP, then the NIC that uses it) and the data disk do not depend on each
    // other, so they are made side by side; the VM waits for both.
    const [nicId, ensuredDisk] = await settledInOrder([
      this.ensurePublicIp(claw, report).then((pipId) => this.ensureNic(claw, pipId, report)),
      this.ensureDisk(claw, opts.createDisk, report),
    ]);
    let disk = ensuredDisk;

    let vm = await this.settle(c, await this.step(c, "read", () => this.getVm(n.vm)), report);
    if (disk.managedBy && !(vm && sameId(disk.managedBy, vm.id))) {
      throw new ClawStepError(
        c,
        "read",
        new Error(
          `data disk ${n.dataDisk} is attached to ${disk.managedBy}, not to this claw's VM; detach it first`,
        ),
      );
    }
    // Stopped by its owner (not by a rollout): the claw stays stopped after the change.
    const ownerStopped = opts.restoring?.ownerStopped ?? (vm !== undefined && isOwnerStopped(vm));
    // Parked by the power schedule or an operator: the new VM carries the mark, runs to be
    // verified, and the rollout parks it again (a crash in between leaves a VM the schedule parks).
    const parkedBy = vm?.tags?.[TAGS.parkedBy];
    // What the VM was, to recreate it when Azure refuses its replacement after it is gone.
    const previous = vm?.provisioningState === "Succeeded" ? runningAs(vm) : undefined;
    if (vm && this.isConverged(vm, claw, imageVersion, disk)) {
      if (ownerStopped)
        return { claw: c, imageVersion, vmId: vm.id, dataDiskId: disk.id, leftDeallocated: true };
      await this.ensureRunning(c, vm, report);
      return {
        claw: c,
        imageVersion,
        vmId: vm.id,
        dataDiskId: disk.id,
        ...(parkedBy ? { parkAfterVerify: true } : {}),
      };
    }

    // Checked before the running VM is taken down: a VM Azure would refuse (the image definition's
    // security type, generation, disk controller or purchase plan against the VM and its size, the
    // size restricted or without premium storage) leaves the claw as it was. Recreating the VM as
    // it was after a refusal is not checked: it is the way back.
    if (!opts.restoring) {
      const def = a.image_definitions[a.fleet_image_definition_name];
      await this.refuseUncreatable(
        c,
        `a new VM on image ${imageVersion} (${claw.settings.vm_size})`,
        {
          vmSize: claw.settings.vm_size,
          trustedLaunch: claw.settings.enable_trusted_launch,
          ...(def?.purchase_plan ? { plan: def.purchase_plan } : {}),
          diskSkus: [String(disk.sku?.name ?? claw.settings.data_disk_sku)],
        },
        report,
      );
    }

    // Read before the running VM is taken down (a failed read leaves the claw as it was).
    const diskControllerType = await this.step(c, "read", () =>
      this.createCheck.diskController(claw.settings.vm_size),
    );

    // Rendered before the running VM is taken down: a renderer that fails, or a plan gone stale,
    // leaves the claw as it was.
    const boot = await this.opts.render(claw);
    if (boot.configHash !== claw.configHash) {
      throw new Error(
        `${c}: the renderer's config hash ${boot.configHash} differs from the planned ${claw.configHash}; the plan is stale`,
      );
    }

    if (vm && opts.snapshot) await this.refuseAtSnapshotCap(c, disk);

    let snapshotId: string | undefined;
    if (vm) {
      const removed = await this.removeVm(c, vm, disk, report, {
        snapshot: opts.snapshot ? { claw, disk } : undefined,
        rollback: opts.rollback === true,
      });
      snapshotId = removed.snapshotId;
      vm = undefined;
      disk = removed.disk ?? disk;
    }

    if ((disk.diskSizeGB ?? 0) < claw.settings.data_disk_size_gb) {
      disk = await this.grow(claw, disk, report);
    }

    const created = await this.createOrRestore(
      plan,
      previous,
      ownerStopped,
      opts.restoring !== undefined,
      report,
      () =>
        this.step(
          c,
          "create-vm",
          () =>
            this.ctx.compute.virtualMachines.createOrUpdate(
              this.rg,
              n.vm,
              vmBody({
                fleet: this.fleet,
                claw,
                imageVersion,
                imageVersionId: image.id ?? imageVersionId,
                dataDiskId: disk.id!,
                nicId,
                customData: boot.customData,
                configHash: boot.configHash,
                hostKeyFingerprint: boot.hostKeyFingerprint,
                rolloutId: this.opts.rolloutId,
                ...(boot.secretVersion ? { secretVersion: boot.secretVersion } : {}),
                ...(parkedBy ? { parkedBy } : {}),
                ...(diskControllerType ? { diskControllerType } : {}),
              }),
              this.poll,
            ),
          report,
          `image ${imageVersion}, ${claw.settings.vm_size}${diskControllerType ? ` (${diskControllerType} disk controller)` : ""}, disk ${n.dataDisk} at LUN ${DATA_DISK_LUN}`,
        ).then((vm) => {
          if (vm.provisioningState && vm.provisioningState !== "Succeeded") {
            throw new ClawStepError(
              c,
              "create-vm",
              new Error(`VM ${n.vm} ended in provisioning state ${vm.provisioningState}`),
            );
          }
          return vm;
        }),
    );
    await this.grantSecret(c, claw, created, report);
    if (ownerStopped) {
      // Azure starts every VM it creates; its owner had deallocated the one it replaces.
      await this.step(
        c,
        "deallocate",
        () => this.ctx.compute.virtualMachines.deallocate(this.rg, n.vm, this.poll),
        report,
        "its owner had deallocated the VM it replaces",
      );
    }
    // The new VM runs: now older snapshots may go (a failed delete fails the claw, which runs).
    if (snapshotId) await this.pruneSnapshots(c, disk, snapshotId, report);
    return {
      claw: c,
      imageVersion,
      vmId: created.id,
      dataDiskId: disk.id,
      snapshotId,
      ...(ownerStopped ? { leftDeallocated: true } : {}),
      ...(parkedBy ? { parkAfterVerify: true } : {}),
    };
  }

  /** Incremental snapshots of `disk`, whoever made them, newest first. */
  private async snapshotsOf(claw: string, disk: Disk): Promise<Snapshot[]> {
    const all = await this.step(claw, "read", () =>
      listAll(this.ctx.compute.snapshots.listByResourceGroup(this.rg)),
    );
    return all
      .filter((s) => s.incremental === true && sameId(s.creationData?.sourceResourceId, disk.id))
      .sort((a, b) => time(b.timeCreated) - time(a.timeCreated));
  }

  /**
   * Azure keeps at most INCREMENTAL_SNAPSHOT_CAP incremental snapshots of a disk: at the cap, the
   * snapshot step would fail after the VM is stopped. Refused while the VM still runs.
   *
   * Azure counts the disk's snapshots wherever they are; this counts those in the fleet's resource
   * group only. Listing the subscription's snapshots needs snapshots/read at subscription scope,
   * which the operator's roles do not hold (the fleet role is assigned on the resource group; the
   * size reader on the subscription reads SKUs and nothing else), and would page through every
   * snapshot of the subscription on each replace. Snapshots made elsewhere are met by Azure's own
   * refusal after the deallocate instead: the VM is started again (restartAfterRefusedSnapshot).
   */
  private async refuseAtSnapshotCap(claw: string, disk: Disk): Promise<void> {
    const taken = (await this.snapshotsOf(claw, disk)).length;
    if (taken < INCREMENTAL_SNAPSHOT_CAP) return;
    throw new ClawStepError(
      claw,
      "snapshot",
      new Error(
        `data disk ${disk.name} already has ${taken} incremental snapshots in ${this.rg}, Azure's limit per disk (${INCREMENTAL_SNAPSHOT_CAP}); ` +
          "its VM was left as it is. Delete snapshots of the disk that are not this product's (its own beyond rollout.snapshots_kept are deleted after each replace), " +
          "or set rollout.snapshot_before_replace: false",
      ),
    );
  }

  /**
   * Deletes this product's snapshots of the disk beyond the newest `snapshotsKept` (the one just
   * taken among them). A snapshot is this product's when it carries the claw's tag and the name
   * snapshotName gives the disk's snapshots; anything else is never touched.
   */
  private async pruneSnapshots(claw: string, disk: Disk, taken: string, report: StepReporter): Promise<void> {
    const keep = this.opts.snapshotsKept ?? DEFAULT_SNAPSHOTS_KEPT;
    const prefix = `${disk.name}-pre-`.toLowerCase();
    const ours = (await this.snapshotsOf(claw, disk)).filter(
      (s) => s.tags?.[TAGS.claw] === claw && String(s.name).toLowerCase().startsWith(prefix),
    );
    const kept = new Set([
      taken.toLowerCase(),
      ...ours.slice(0, keep).map((s) => String(s.id).toLowerCase()),
    ]);
    for (const old of ours.filter((s) => !kept.has(String(s.id).toLowerCase()))) {
      await this.step(
        claw,
        "delete-snapshot",
        () => this.ctx.compute.snapshots.delete(this.rg, old.name!, this.poll),
        report,
        `${old.name} (keeping the newest ${keep}: rollout.snapshots_kept)`,
      );
    }
  }

  /**
   * Key Vault secrets: the new VM's identity (a new principal with every VM) may read the claw's
   * own secret, so its boot can fetch it. Re-running grants nothing twice.
   */
  private async grantSecret(
    c: string,
    claw: DesiredClaw,
    vm: VirtualMachine,
    report: StepReporter,
  ): Promise<void> {
    const vault = this.fleet.secrets?.key_vault;
    if (!vault) return;
    const principal = vm.identity?.principalId;
    if (!principal) {
      throw new ClawStepError(
        c,
        "grant-secret",
        new Error(`VM ${claw.names.vm} has no system-assigned identity`),
      );
    }
    await this.step(
      c,
      "grant-secret",
      () => grantSecretRead(this.ctx, vault, claw.names.keyVaultSecret, principal),
      report,
      `Key Vault Secrets User on ${vault}/${claw.names.keyVaultSecret} for the VM's identity`,
    );
  }

  /**
   * Runs the create of a claw's new VM. When Azure refuses it after the old VM is gone (a size
   * without capacity, an image the size cannot boot, ...), recreates the VM as it was (its image
   * and size, around the same disk) and then fails with the refusal: the claw runs, and the run is
   * red naming why.
   */
  private async createOrRestore<T>(
    plan: ClawPlan,
    previous: { imageVersion: string; vmSize: string } | undefined,
    ownerStopped: boolean,
    restoring: boolean,
    report: StepReporter,
    create: () => Promise<T>,
  ): Promise<T> {
    try {
      return await create();
    } catch (err) {
      // A create that timed out may still be running in Azure: no second create beside it.
      const timedOut =
        err instanceof Error &&
        (err.cause instanceof StepTimeoutError || err.cause instanceof StepCancelledError);
      if (!previous || restoring || timedOut) throw err;
      const claw = this.desired(plan);
      report(claw.name, "restore", `image ${previous.imageVersion}, ${previous.vmSize}`);
      const as = { ...plan, desired: { ...claw, settings: { ...claw.settings, vm_size: previous.vmSize } } };
      try {
        await this.converge(as, previous.imageVersion, report, {
          createDisk: false,
          snapshot: false,
          rollback: true,
          restoring: { ownerStopped },
        });
      } catch (restoreErr) {
        throw new ClawStepError(
          claw.name,
          "restore",
          new Error(
            `${errorText(err)}; recreating the VM as it was (image ${previous.imageVersion}, ${previous.vmSize}) failed too: ${errorText(restoreErr)}`,
          ),
        );
      }
      throw new ClawRestoredError(
        err,
        `recreated as it was (image ${previous.imageVersion}, ${previous.vmSize}) around the same data disk`,
      );
    }
  }

  /** Throws VmCreateRefusedError, before anything is changed, when Azure would refuse the VM. */
  private async refuseUncreatable(
    claw: string,
    what: string,
    request: Parameters<VmCreateCheck["problems"]>[0],
    report: StepReporter,
  ): Promise<void> {
    const problems = await this.step(claw, "read", () => this.createCheck.problems(request));
    if (this.createCheck.sizesUnread)
      report(claw, "pre-check", `VM size not checked: ${this.createCheck.sizesUnread}`);
    if (problems.length > 0)
      throw new VmCreateRefusedError(claw, what, problems, "its VM was left as it is, nothing was changed");
  }

  /** The VM already is what this step would create: right image, config, disk at LUN 0, provisioned. */
  private isConverged(vm: Vm, claw: DesiredClaw, imageVersion: string, disk: Disk): boolean {
    const lun0 = vm.storageProfile?.dataDisks?.find((d) => d.lun === DATA_DISK_LUN);
    return (
      vm.provisioningState === "Succeeded" &&
      vmImageVersion(vm) === imageVersion &&
      vm.tags?.[TAGS.configHash] === claw.configHash &&
      vm.hardwareProfile?.vmSize === claw.settings.vm_size &&
      sameId(lun0?.managedDisk?.id, disk.id)
    );
  }

  /** The claw's data disk: read, and created empty when missing and `create` allows it (never replaced). */
  private async ensureDisk(claw: DesiredClaw, create: boolean, report: StepReporter): Promise<Disk> {
    const c = claw.name;
    const name = claw.names.dataDisk;
    const disk = await this.step(c, "read", () => getIfExists(this.ctx.compute.disks.get(this.rg, name)));
    if (disk) return disk;
    if (!create) {
      throw new ClawStepError(c, "read", new Error(`data disk ${name} does not exist; the plan expected it`));
    }
    return this.step(
      c,
      "create-disk",
      () =>
        this.ctx.compute.disks.createOrUpdate(
          this.rg,
          name,
          dataDiskBody(this.fleet, claw),
          this.pollFor("disk"),
        ),
      report,
      `${claw.settings.data_disk_size_gb} GB ${claw.settings.data_disk_sku}`,
    );
  }

  private async ensurePublicIp(claw: DesiredClaw, report: StepReporter): Promise<string> {
    const name = claw.names.publicIp;
    const pip = await this.step(claw.name, "read", () =>
      getIfExists(this.ctx.network.publicIPAddresses.get(this.rg, name)),
    );
    if (pip?.id) return pip.id;
    const created = await this.step(
      claw.name,
      "create-public-ip",
      () =>
        this.ctx.network.publicIPAddresses.createOrUpdate(
          this.rg,
          name,
          publicIpBody(this.fleet, claw),
          this.pollFor("network"),
        ),
      report,
    );
    return created.id ?? ids.publicIp(this.ctx, name);
  }

  private async ensureNic(claw: DesiredClaw, publicIpId: string, report: StepReporter): Promise<string> {
    const name = claw.names.nic;
    const nic = await this.step(claw.name, "read", () =>
      getIfExists(this.ctx.network.networkInterfaces.get(this.rg, name)),
    );
    if (nic?.id) return nic.id;
    const a = this.fleet.azure;
    const body = nicBody(this.fleet, claw, {
      subnetId: ids.subnet(this.ctx, a.virtual_network_name, a.subnet_name),
      nsgId: ids.nsg(this.ctx, a.network_security_group_name),
      publicIpId,
    });
    const created = await this.step(
      claw.name,
      "create-nic",
      () => this.ctx.network.networkInterfaces.createOrUpdate(this.rg, name, body, this.pollFor("network")),
      report,
    );
    return created.id ?? ids.nic(this.ctx, name);
  }

  private async grow(claw: DesiredClaw, disk: Disk, report: StepReporter): Promise<Disk> {
    return this.step(
      claw.name,
      "grow-disk",
      () =>
        this.ctx.compute.disks.update(
          this.rg,
          claw.names.dataDisk,
          { diskSizeGB: claw.settings.data_disk_size_gb },
          this.pollFor("disk"),
        ),
      report,
      `${disk.diskSizeGB} → ${claw.settings.data_disk_size_gb} GB`,
    );
  }

  /**
   * Deallocate → tag the disk with the VM's image → snapshot (optional) → make sure every
   * attachment is Detach → delete the VM → confirm the disk is still there.
   */
  private async removeVm(
    claw: string,
    running: Vm,
    disk: Disk | undefined,
    report: StepReporter,
    opts: { snapshot: { claw: DesiredClaw; disk: Disk } | undefined; rollback?: boolean },
  ): Promise<{ snapshotId?: string; disk?: Disk }> {
    // Marked before it stops: a run that fails between here and the delete (tag-disk, snapshot,
    // a refused delete) leaves a VM the next plan starts, not one it takes for stopped by its owner.
    const vm = await this.stopForChange(claw, running, report);
    const attached =
      disk && (vm.storageProfile?.dataDisks ?? []).some((d) => sameId(d.managedDisk?.id, disk.id));
    let current = disk;
    const version = vmImageVersion(vm);
    // A VM whose create failed never ran its image on the disk: the disk keeps what it had (read
    // before the deallocate, which leaves even a failed VM Succeeded).
    const ran = running.provisioningState === "Succeeded";
    // A rollback takes down a VM whose image failed verification: unless that image once proved
    // healthy on this disk, the disk keeps naming the image it can return to.
    const unproven = opts.rollback === true && disk?.tags?.[TAGS.lastHealthyImage] !== version;
    if (disk && attached && ran && !unproven && version && disk.tags?.[TAGS.lastImage] !== version) {
      // Written before the delete: after a crash between delete and create, the disk still says
      // which image it last ran, so the claw can be recovered or rolled back onto it.
      current = await this.step(
        claw,
        "tag-disk",
        () =>
          this.ctx.compute.disks.update(
            this.rg,
            disk.name!,
            { tags: mergeTags(disk.tags, { [TAGS.lastImage]: version }) },
            this.pollFor("disk"),
          ),
        report,
        `${TAGS.lastImage}=${version}`,
      );
    }
    let snapshotId: string | undefined;
    // Taken whenever the disk exists, attached or not: a disk left detached by an earlier failed
    // run is the claw's state as much as an attached one.
    if (opts.snapshot && current) {
      const name = snapshotName(current.name!, version, this.opts.rolloutId);
      const existing = await this.step(claw, "read", () =>
        getIfExists(this.ctx.compute.snapshots.get(this.rg, name)),
      );
      const snap =
        existing ??
        (await this.step(
          claw,
          "snapshot",
          () =>
            this.ctx.compute.snapshots.createOrUpdate(
              this.rg,
              name,
              snapshotBody(this.fleet, opts.snapshot!.claw, current!, {
                [TAGS.rolloutId]: this.opts.rolloutId,
                ...(version ? { [TAGS.lastImage]: version } : {}),
              }),
              this.pollFor("snapshot"),
            ),
          report,
          attached ? name : `${name} (data disk not attached to the VM)`,
        ).catch((err: unknown) => this.restartAfterRefusedSnapshot(claw, running, current!, err, report)));
      snapshotId = snap.id;
    }
    await this.ensureDetachOnDelete(claw, vm, report);
    await this.step(
      claw,
      "delete-vm",
      () => this.ctx.compute.virtualMachines.delete(this.rg, vm.name, this.poll),
      report,
    );
    if (disk) {
      // Belt and braces for invariant 1: the disk must have outlived its VM.
      const after = await this.step(claw, "read", () =>
        getIfExists(this.ctx.compute.disks.get(this.rg, disk.name!)),
      );
      if (!after) {
        throw new ClawStepError(
          claw,
          "delete-vm",
          new Error(`data disk ${disk.name} is gone after deleting VM ${vm.name}`),
        );
      }
      current = after;
    }
    return { snapshotId, disk: current };
  }

  /**
   * Azure refused the snapshot after the VM was stopped (most often its cap on incremental
   * snapshots of a disk, which counts the disk's snapshots in every resource group, while
   * refuseAtSnapshotCap sees only the fleet's): the VM is started again as it was, unless its owner
   * had stopped it, and the claw fails naming the refusal. Nothing was deleted.
   */
  private async restartAfterRefusedSnapshot(
    claw: string,
    running: Vm,
    disk: Disk,
    err: unknown,
    report: StepReporter,
  ): Promise<never> {
    const vm = await this.mustGetVm(claw, running.name);
    const ownerStopped = isOwnerStopped(running);
    if (!ownerStopped) await this.ensureRunning(claw, vm, report);
    const cause =
      (err instanceof ClawStepError ? err.code : azureErrorCode(err)) === "OperationNotAllowed"
        ? new Error(
            `${errorText(err)}. Azure counts the incremental snapshots of data disk ${disk.name} in every resource group, ` +
              `and this product sees only ${this.rg} (the scope of its role): delete snapshots of the disk made elsewhere ` +
              `(az snapshot list --query "[?creationData.sourceResourceId=='${disk.id}']"), or set rollout.snapshot_before_replace: false`,
          )
        : err;
    throw new ClawRestoredError(
      cause,
      ownerStopped
        ? "left deallocated, as its owner had it, and not replaced"
        : "started again as it was, not replaced",
    );
  }

  /**
   * A VM made elsewhere (the seed's Terraform, the portal) may delete its data disk or NIC with
   * it (deleteOption Delete: https://learn.microsoft.com/azure/virtual-machines/delete#delete-a-vm-and-attached-resources).
   * Switch every attachment to Detach before the delete.
   */
  private async ensureDetachOnDelete(claw: string, vm: Vm, report: StepReporter): Promise<void> {
    const dataDisks = vm.storageProfile?.dataDisks ?? [];
    const nics = vm.networkProfile?.networkInterfaces ?? [];
    const osDisk = vm.storageProfile?.osDisk;
    const risky =
      dataDisks.some((d) => d.deleteOption === "Delete") || nics.some((n) => n.deleteOption === "Delete");
    if (!risky) return;
    // While patching anyway, let the disposable OS disk go with the VM instead of lingering.
    await this.step(
      claw,
      "set-detach",
      () =>
        this.ctx.compute.virtualMachines.update(
          this.rg,
          vm.name,
          {
            storageProfile: {
              ...(osDisk
                ? { osDisk: { createOption: osDisk.createOption, deleteOption: "Delete" as const } }
                : {}),
              dataDisks: dataDisks.map((d) => ({
                lun: d.lun,
                createOption: "Attach",
                managedDisk: { id: d.managedDisk?.id },
                ...(d.name ? { name: d.name } : {}),
                deleteOption: "Detach",
              })),
            },
            networkProfile: {
              networkInterfaces: nics.map((n) => ({ id: n.id, primary: n.primary, deleteOption: "Detach" })),
            },
          },
          this.poll,
        ),
      report,
      "data disks and NICs set to Detach on VM delete",
    );
  }

  private async deallocate(claw: string, vm: Vm, report: StepReporter): Promise<void> {
    if (powerStateOf(vm) === "deallocated") return;
    await this.step(
      claw,
      "deallocate",
      () => this.ctx.compute.virtualMachines.deallocate(this.rg, vm.name, this.poll),
      report,
    );
  }

  private async ensureRunning(claw: string, vm: Vm, report: StepReporter): Promise<void> {
    const state = powerStateOf(vm);
    if (state !== "running" && state !== "starting") {
      await this.step(
        claw,
        "start",
        () => this.ctx.compute.virtualMachines.start(this.rg, vm.name, this.poll),
        report,
      );
    }
    if (vm.tags?.[TAGS.stoppedBy] !== undefined) {
      const tags = mergeTags(vm.tags, { [TAGS.stoppedBy]: undefined });
      await this.step(
        claw,
        "untag-stopped",
        () => this.ctx.compute.virtualMachines.update(this.rg, vm.name!, { tags }, this.poll),
        report,
      );
    }
  }

  /**
   * Deallocates a VM that a resize or disk grow must stop, marking it first (TAGS.stoppedBy) so a
   * run interrupted before the VM is started again leaves a VM the next plan starts, instead of
   * one it takes for stopped on purpose. Returns the VM as it now is.
   */
  private async stopForChange(claw: string, vm: Vm, report: StepReporter): Promise<Vm> {
    if (powerStateOf(vm) !== "deallocated" && vm.tags?.[TAGS.stoppedBy] === undefined) {
      await this.step(
        claw,
        "mark-stopping",
        () =>
          this.ctx.compute.virtualMachines.update(
            this.rg,
            vm.name!,
            { tags: mergeTags(vm.tags, { [TAGS.stoppedBy]: this.opts.rolloutId }) },
            this.poll,
          ),
        report,
      );
    }
    await this.deallocate(claw, vm, report);
    return this.mustGetVm(claw, vm.name!);
  }

  /**
   * Deletes a NIC, waiting out the hold Azure puts on it for the VM just deleted: a 400
   * NicReservedForAnotherVm for about 180 s, which the SDK does not retry
   * (https://github.com/microsoft/AzureTRE/pull/4511). Bounded: NIC_RESERVATION_WAIT_MS.
   */
  private async deleteNicWhenFree(claw: string, name: string, report: StepReporter): Promise<void> {
    const deadline = Date.now() + NIC_RESERVATION_WAIT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.step(
          claw,
          "delete-nic",
          () => this.ctx.network.networkInterfaces.delete(this.rg, name, this.pollFor("network")),
          attempt === 1 ? report : undefined,
        );
        return;
      } catch (err) {
        if (
          !(err instanceof ClawStepError) ||
          err.code !== "NicReservedForAnotherVm" ||
          Date.now() > deadline
        )
          throw err;
        if (attempt === 1) report(claw, "wait", `NIC ${name} is held for the deleted VM (about 180 s)`);
        await sleep(Math.min(Math.max(this.ctx.poll.updateIntervalInMs, 100), 15_000));
      }
    }
  }

  /**
   * Waits out an operation in flight on the VM (a create or delete a crashed run started): ARM
   * refuses a second operation on a VM that is Creating/Updating/Deleting (409 Conflict).
   * Returns the VM in a terminal state, or undefined when it is gone.
   */
  private async settle(claw: string, vm: Vm | undefined, report: StepReporter): Promise<Vm | undefined> {
    const busy = (v: Vm) => /^(Creating|Updating|Deleting|Migrating)$/i.test(v.provisioningState ?? "");
    if (!vm || !busy(vm)) return vm;
    report(claw, "wait", `VM ${vm.name} is ${vm.provisioningState}`);
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let current: Vm | undefined = vm;
    while (current && busy(current)) {
      if (Date.now() > deadline) {
        throw new ClawStepError(
          claw,
          "wait",
          new Error(
            `VM ${vm.name} stayed ${current.provisioningState} for ${SETTLE_TIMEOUT_MS / 60_000} minutes`,
          ),
        );
      }
      await sleep(Math.max(this.ctx.poll.updateIntervalInMs, 100));
      current = await this.step(claw, "read", () => this.getVm(vm.name));
    }
    return current;
  }

  // ---------------------------------------------------------------- plumbing

  /** Options for a VM's long-running operation: its poll interval and the running step's abort signal. */
  private get poll(): { updateIntervalInMs: number; abortSignal?: AbortSignal } {
    return this.pollFor("vm");
  }

  /** Options for a long-running operation of this kind: its poll interval and the step's abort signal. */
  private pollFor(kind: LroKind): { updateIntervalInMs: number; abortSignal?: AbortSignal } {
    const abortSignal = stepSignal.getStore();
    const poll = this.ctx.pollFor(kind);
    return abortSignal ? { ...poll, abortSignal } : poll;
  }

  private getVm(name: string): Promise<Vm | undefined> {
    return getIfExists(
      this.ctx.compute.virtualMachines.get(this.rg, name, { expand: "instanceView" }),
    ) as Promise<Vm | undefined>;
  }

  private async mustGetVm(claw: string, name: string): Promise<Vm> {
    const vm = await this.step(claw, "read", () => this.getVm(name));
    if (!vm) throw new ClawStepError(claw, "read", new Error(`VM ${name} disappeared`));
    return vm;
  }

  private desired(plan: ClawPlan): DesiredClaw {
    if (!plan.desired) throw new Error(`${plan.claw}: a ${plan.action} plan needs the desired claw`);
    return plan.desired;
  }

  private target(plan: ClawPlan): string {
    if (!plan.targetImageVersion)
      throw new Error(`${plan.claw}: a ${plan.action} plan needs targetImageVersion`);
    return plan.targetImageVersion;
  }

  /** Runs one step: reports it (when a reporter is given), and names claw, step and ARM code on failure. */
  private async step<T>(
    claw: string,
    step: string,
    fn: () => Promise<T>,
    report?: StepReporter,
    detail?: string,
  ): Promise<T> {
    report?.(claw, step, detail);
    const ms = this.opts.stepTimeoutMs ?? STEP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const abort = new AbortController();
    try {
      // this.poll hands the step's signal to the SDK, so a timed-out poller stops polling.
      const work = stepSignal.run(abort.signal, fn);
      // The SDK's poller goes on after a timeout; its eventual failure is nobody's to report.
      work.catch(() => {});
      const cancel = this.opts.signal;
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abort.abort();
            reject(new StepTimeoutError(step, ms));
          }, ms);
          const onCancel = () => {
            abort.abort();
            reject(new StepCancelledError(step));
          };
          if (cancel?.aborted) onCancel();
          else cancel?.addEventListener("abort", onCancel, { once: true, signal: abort.signal });
        }),
      ]);
    } catch (err) {
      if (err instanceof ClawStepError) throw err;
      throw new ClawStepError(claw, step, err, { clientId: this.ctx.options.clientId });
    } finally {
      clearTimeout(timer);
      // Also unhooks the cancel listener (registered with this signal).
      abort.abort();
    }
  }
}

/** A refused change after which the claw was put back as it was: the refusal, and what runs. */
export class ClawRestoredError extends Error {
  /** `how`: what was done, e.g. "recreated as it was (image 1.0.0, Standard_D2s_v5) around the same data disk". */
  constructor(cause: unknown, how: string) {
    super(`${errorText(cause)}. The VM was ${how}; fix the cause, then apply again`, { cause });
    this.name = "ClawRestoredError";
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The image and size a running VM was created with, when both are known. */
function runningAs(vm: Vm): { imageVersion: string; vmSize: string } | undefined {
  const imageVersion = vmImageVersion(vm);
  const vmSize = vm.hardwareProfile?.vmSize;
  return imageVersion && vmSize ? { imageVersion, vmSize } : undefined;
}

/** Milliseconds of a timestamp the SDK hands back as a Date (or an ISO string); 0 when absent. */
function time(t: Date | string | undefined): number {
  return t === undefined ? 0 : new Date(t).getTime();
}

/** Storage account type of each disk a VM uses. */
function diskSkusOf(vm: Vm): string[] {
  const storage = vm.storageProfile;
  return [storage?.osDisk, ...(storage?.dataDisks ?? [])]
    .map((d) => d?.managedDisk?.storageAccountType)
    .filter((t): t is NonNullable<typeof t> => t !== undefined)
    .map(String);
}

/**
 * Deallocated or stopped, and not by a rollout (no TAGS.stoppedBy) nor by the power schedule or
 * an operator's park (no TAGS.parkedBy: such a VM is parked again after its upgrade): its owner's choice.
 */
function isOwnerStopped(vm: Vm): boolean {
  const state = powerStateOf(vm);
  return (
    (state === "deallocated" || state === "stopped") &&
    vm.tags?.[TAGS.stoppedBy] === undefined &&
    vm.tags?.[TAGS.parkedBy] === undefined
  );
}

/** A VM the power schedule or an operator parked runs for its change, and is parked again after it. */
function parkedAgain(vm: Vm): Pick<OperationResult, "parkAfterVerify"> {
  return vm.tags?.[TAGS.parkedBy] !== undefined ? { parkAfterVerify: true } : {};
}

/** The seed's names, for claws no longer in the manifest. */
function seedNames(claw: string) {
  return deriveResourceNames(claw);
}

/**
 * Awaits every branch; when one failed, throws the first failure in the given order once all have
 * ended, so no ARM write is left running unseen behind an error (a re-run finds what the others made).
 */
async function settledInOrder<T extends readonly unknown[]>(
  branches: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const results = await Promise.allSettled(branches);
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
