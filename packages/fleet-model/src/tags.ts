// Tag names the controller reads and writes. One prefix so operators can filter them
// (Azure tag names may not contain < > % & \ ? / — dots are allowed).
// https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
export const TAG_PREFIX = "openclawps.";

export const TAGS = {
  /** Claw name, on every per-claw resource. */
  claw: `${TAG_PREFIX}claw`,
  /** Gallery image version the VM was created from. */
  imageVersion: `${TAG_PREFIX}image-version`,
  /** Config hash of the VM's rendered cloud-init (see @openclawps/cloud-init). */
  configHash: `${TAG_PREFIX}config-hash`,
  /** SHA256 fingerprint of the VM's SSH host key, OpenSSH format ("SHA256:..."). */
  hostKey: `${TAG_PREFIX}host-key-sha256`,
  /** Id of the last rollout that touched the resource. */
  rolloutId: `${TAG_PREFIX}rollout-id`,
  /** On the data disk: image version of the VM it was last attached to, written before that VM is deleted. */
  lastImage: `${TAG_PREFIX}last-image-version`,
  /** On the data disk: image version that last passed verification on it (rollback target). */
  lastHealthyImage: `${TAG_PREFIX}last-healthy-image-version`,
  /**
   * On a VM: the rollout that deallocated it to resize it or grow its disk, until that rollout
   * starts it again. A VM still carrying it was left stopped by an interrupted rollout.
   */
  stoppedBy: `${TAG_PREFIX}stopped-by-rollout`,
  /**
   * On a VM: who parked (deallocated) it outside a rollout, "schedule;<iso time>" or
   * "operator;<iso time>". The schedule starts only VMs it parked itself; a VM stopped without
   * this tag was stopped by its owner and is left alone.
   */
  parkedBy: `${TAG_PREFIX}parked-by`,
  /** On the resource group: the rollout lease, "runId;expiresAtIso". */
  lease: `${TAG_PREFIX}lease`,
  /**
   * On the resource group, while a run takes the lease: `{leaseClaim}{hash of the run id}`, valued
   * like the lease. Each run writes only its own (see @openclawps/azure lease.ts).
   */
  leaseClaim: `${TAG_PREFIX}lease-claim.`,
  /** On a gallery image version: content hash of the baseline inputs it was baked from. */
  contentHash: `${TAG_PREFIX}content-hash`,
  /** On a VM (Key Vault secrets): version id of the claw's secret the VM last loaded. */
  secretVersion: `${TAG_PREFIX}secret-version`,
  /** On a gallery image version: commit it was baked from. */
  commit: `${TAG_PREFIX}commit`,
} as const;
