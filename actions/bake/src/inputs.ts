// The action's inputs, read and checked up front: every mistake is reported before Azure or
// Packer is touched.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import {
  type AzureInputs,
  annotate,
  findShippedVmRuntime,
  getAzureInputs,
  getBoolean,
  getChoice,
  getString,
  log,
  maskSecret,
  UserError,
} from "@openclawps/action-kit";
import {
  checkManifest,
  displayPath,
  mergeVmRuntime,
  overlayDirOrThrow,
  REFUSED_ENTRY_FIX_SENTENCE,
  resolveInRepo,
} from "@openclawps/fleet-check";
import type { SharedInfraFleet } from "@openclawps/fleet-model";
import type { BakeRequest } from "./bake.ts";
import type { BaseImage, PackerAuth } from "./packer-variables.ts";
import { findShippedPackerDir, TEMPLATE_MARKER } from "./shipped-template.ts";

export interface BakeInputs {
  request: BakeRequest;
  azure: AzureInputs;
  manifestDisplay: string;
  /** The manifest's shared resources: what bake ensures exists before Packer runs. */
  fleet: SharedInfraFleet;
}

/** `publisher:offer:sku[:version]`, the form `az vm image list` prints as `urn`. */
export function parseImageUrn(urn: string): BaseImage | undefined {
  const parts = urn.trim().split(":");
  if (parts.length < 3 || parts.length > 4 || parts.some((p) => p === "")) return undefined;
  const [publisher = "", offer = "", sku = "", version = "latest"] = parts;
  return { publisher, offer, sku, version };
}

export function readBakeInputs(moduleUrl: string): BakeInputs {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();

  // ---- manifest: the azure block names the gallery, image definition and regions
  const manifestAbs = resolveInRepo(workspace, getString("manifest", "claws.yaml"), "Input 'manifest'");
  const manifestDisplay = displayPath(workspace, manifestAbs);
  const checked = checkManifest(manifestAbs, manifestDisplay);
  const manifest = checked.parse?.manifest;
  if (!manifest) {
    annotate(checked.findings);
    const errors = checked.findings.filter((f) => f.severity === "error");
    throw new UserError(
      `${manifestDisplay} is not a usable fleet manifest (${errors.length} error(s)):\n${errors.map((f) => `  ${f.file}:${f.line ?? 1}: ${f.message}${f.fix ? ` Fix: ${f.fix}` : ""}`).join("\n")}`,
    );
  }
  const { azure } = manifest;
  const definition = azure.image_definitions[azure.fleet_image_definition_name];
  const plan = definition?.purchase_plan;

  // ---- template and vm-runtime
  const packerInput = getString("packer-dir");
  const packerDir = packerInput
    ? resolveInRepo(workspace, packerInput, "Input 'packer-dir'")
    : findShippedPackerDir(moduleUrl);
  const packerDirDisplay = displayPath(workspace, packerDir);
  if (!existsSync(packerDir) || !statSync(packerDir).isDirectory()) {
    throw new UserError(
      `Packer directory '${packerDirDisplay}' does not exist.`,
      `Set packer-dir to the directory holding the *.pkr.hcl files (relative to the repository root), or leave it empty to bake the shipped template (infra/packer/${TEMPLATE_MARKER}).`,
    );
  }
  const overlay = overlayDirOrThrow(workspace, manifestAbs, getString("vm-runtime"));
  const vmRuntime = mergeVmRuntime({
    shipped: findShippedVmRuntime(moduleUrl),
    ...(overlay ? { overlay } : {}),
    workspace,
  });
  // Nothing a link points at may reach the build VM: refused before anything reaches Azure.
  if (vmRuntime.refused.length > 0) {
    throw new UserError(
      `The vm-runtime holds what bake never reads: ${vmRuntime.refused
        .map((r) => `${displayPath(workspace, r.abs)} ${r.message}`)
        .join("; ")}.`,
      REFUSED_ENTRY_FIX_SENTENCE,
    );
  }

  // ---- base image: input, else the marketplace image behind the definition's purchase plan
  const urn = getString("base-image");
  let baseImage: BaseImage | undefined;
  if (urn) {
    baseImage = parseImageUrn(urn);
    if (!baseImage) {
      throw new UserError(
        `Input 'base-image' must be publisher:offer:sku or publisher:offer:sku:version (got '${urn}').`,
        "E.g. Canonical:ubuntu-24_04-lts:server:latest, as `az vm image list --all --output table` prints the URN.",
      );
    }
  } else if (plan) {
    // A marketplace plan names its image: the plan's product is the offer and its name the SKU
    // (az vm image show prints plan {name, product, publisher} beside the same URN parts).
    baseImage = { publisher: plan.publisher, offer: plan.product, sku: plan.name, version: "latest" };
  }

  // ---- Azure identity; the OIDC request token is a secret from the moment it is read
  const azureInputs = getAzureInputs();
  const auth: PackerAuth = getChoice("packer-auth", ["github-oidc", "azure-cli"] as const, "github-oidc");
  let oidc: BakeRequest["oidc"];
  if (auth === "github-oidc") {
    const requestUrl = process.env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "";
    const requestToken = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "";
    maskSecret(requestToken);
    if (!requestUrl || !requestToken) {
      throw new UserError(
        "GitHub did not provide an OIDC token to this job (ACTIONS_ID_TOKEN_REQUEST_URL is not set), and Packer signs in to Azure with it.",
        "Add `permissions: { id-token: write, contents: read }` to the job that runs the bake (a reusable workflow needs it on the calling job), or set packer-auth: azure-cli after an azure/login step.",
      );
    }
    oidc = { requestUrl, requestToken };
  }

  const imageVersion = getString("image-version").trim();
  const request: BakeRequest = {
    packerDir,
    packerDirDisplay,
    vmRuntime,
    force: getBoolean("force", false),
    packer: packerBinary(workspace, getString("packer", "packer")),
    auth,
    identity: {
      subscriptionId: azureInputs.subscriptionId,
      tenantId: azureInputs.tenantId,
      clientId: azureInputs.clientId,
    },
    gallery: {
      resourceGroup: azure.resource_group_name,
      name: azure.gallery_name,
      imageDefinition: azure.fleet_image_definition_name,
      replicationRegions: azure.replication_regions?.length ? azure.replication_regions : [azure.location],
    },
    buildResourceGroup: getString("build-resource-group") || `${azure.resource_group_name}-bake`,
    vmSize: getString("build-vm-size") || manifest.defaults.vm_size,
    tags: azure.tags,
    ...(imageVersion ? { imageVersion } : {}),
    ...(oidc ? { oidc } : {}),
    ...(baseImage ? { baseImage } : {}),
    ...(plan ? { plan: { name: plan.name, product: plan.product, publisher: plan.publisher } } : {}),
    ...(process.env.GITHUB_SHA ? { commit: process.env.GITHUB_SHA } : {}),
    ...(process.env.RUNNER_TEMP ? { tempDir: process.env.RUNNER_TEMP } : {}),
  };
  if (baseImage && !urn) {
    log.info(
      `Base image ${baseImage.publisher}:${baseImage.offer}:${baseImage.sku} from the purchase plan of image definition ${azure.fleet_image_definition_name}.`,
    );
  }
  return { request, azure: azureInputs, manifestDisplay, fleet: { azure, ssh: manifest.ssh } };
}

/** A bare name is looked up on PATH; a path is taken relative to the repository root (Packer runs in the template directory). */
function packerBinary(workspace: string, given: string): string {
  return given.includes("/") ? resolve(workspace, given) : given;
}
