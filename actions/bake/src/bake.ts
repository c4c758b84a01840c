// The bake: hash the baseline's inputs; reuse the gallery version already baked from them, or
// build the next version with Packer, then tag it with the hash and the commit.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Finding, UserError } from "@openclawps/action-kit";
import { parsePackerOutput, type VmRuntimeTree } from "@openclawps/fleet-check";
import { formatDuration, TAGS } from "@openclawps/fleet-model";
import { contentAddress, packerDirectoryFiles } from "./content-hash.ts";
import { installScripts, installSupportFiles, stageInstallFiles } from "./install-scripts.ts";
import {
  checkPackerVersion,
  hasInitCommand,
  isUnknownCommand,
  packerVersion,
  requiredPackerVersion,
  runPacker,
} from "./packer-cli.ts";
import { PackerBuildOutput } from "./packer-machine-readable.ts";
import { type BaseImage, type PackerAuth, type PurchasePlan, packerVariables } from "./packer-variables.ts";
import { compareVersions, formatVersion, nextVersion, parseVersion, type Version } from "./version.ts";

/** A gallery image version as the bake sees it. */
export interface ImageVersionInfo {
  name: string;
  id: string;
  tags: Record<string, string>;
  provisioningState: string;
}

/** The fleet's gallery image definition: its versions, and tagging one. */
export interface ImageGallery {
  /** `gallery/image` in `resource group`, for messages. */
  label: string;
  /**
   * Creates the resource group, gallery and image definition the manifest names when missing (never
   * changes or deletes one): Packer's azure-arm builder refuses to publish into an image definition
   * that does not exist, and deploy-fleet, which creates the rest, runs after the bake.
   */
  ensure(): Promise<{ created: string[]; updated: string[]; warnings: string[] }>;
  listVersions(): Promise<ImageVersionInfo[]>;
  /** Merges `tags` into the version's tags. */
  tagVersion(version: string, tags: Record<string, string>): Promise<void>;
}

export interface BakeLog {
  info(text: string): void;
  notice(text: string): void;
  warning(text: string): void;
  startGroup(title: string): void;
  endGroup(): void;
}

export interface BakeRequest {
  /** Template directory (absolute) and how to show it (relative to the repository). */
  packerDir: string;
  packerDirDisplay: string;
  /** The merged vm-runtime (shipped + overlay). */
  vmRuntime: VmRuntimeTree;
  /** Explicit version to publish; undefined: the next patch. */
  imageVersion?: string;
  /** Bake even when a version with the same content hash exists. */
  force: boolean;
  packer: string;
  auth: PackerAuth;
  /** ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN, for github-oidc auth. */
  oidc?: { requestUrl: string; requestToken: string };
  identity: { subscriptionId: string; tenantId: string; clientId: string };
  gallery: { resourceGroup: string; name: string; imageDefinition: string; replicationRegions: string[] };
  buildResourceGroup: string;
  vmSize: string;
  baseImage?: BaseImage;
  plan?: PurchasePlan;
  /** Tags for the build's resources and the version (the fleet's `azure.tags`). */
  tags: Record<string, string>;
  /** The commit being baked (GITHUB_SHA), recorded in a tag. */
  commit?: string;
  /** Parent of the staging directory (RUNNER_TEMP on a runner). */
  tempDir?: string;
}

export interface BakeOutcome {
  status: "built" | "skipped";
  imageVersion: string;
  imageId: string;
  contentHash: string;
  /** One sentence: why this outcome. */
  reason: string;
  durationMs: number;
  packerVersion?: string;
  /** Inputs of the content hash, `packer/...` and `install/desktop/...`. */
  files: string[];
}

/** Packer ran and failed: its own words, as findings for annotations and the summary. */
export class PackerBuildFailure extends UserError {
  constructor(
    readonly imageVersion: string,
    readonly contentHash: string,
    readonly messages: string[],
    readonly findings: Finding[],
    readonly durationMs: number,
    readonly exitCode: number,
  ) {
    super(
      `Packer failed to bake image version ${imageVersion} (exit ${exitCode}):\n${messages.map((m) => `  ${m}`).join("\n")}`,
    );
    this.name = "PackerBuildFailure";
  }
}

export interface BakeDeps {
  gallery: ImageGallery;
  log: BakeLog;
  now?: () => number;
}

export async function bake(req: BakeRequest, deps: BakeDeps): Promise<BakeOutcome> {
  const { gallery, log } = deps;
  const now = deps.now ?? Date.now;
  const started = now();

  if (req.imageVersion !== undefined && !parseVersion(req.imageVersion)) {
    throw new UserError(
      `Input 'image-version' must be Major.Minor.Patch with integer parts (got '${req.imageVersion}').`,
      "Use a version like 1.4.0, or leave image-version empty to publish the next patch after the highest existing version.",
    );
  }

  const staging = await mkdtemp(join(req.tempDir ?? tmpdir(), "openclawps-bake-"));
  try {
    const scripts = installScripts(req.vmRuntime);
    if (scripts.length === 0) {
      log.warning(
        "No vm-runtime/install/desktop/*.sh script found: the image will hold the base image only.",
      );
    }
    // `<staging>/install/desktop/*.sh` and what they read, laid out as vm-runtime/install.
    const uploaded = [...scripts, ...installSupportFiles(req.vmRuntime)];
    const staged = await stageInstallFiles(uploaded, staging);
    const address = await contentAddress([...(await packerDirectoryFiles(req.packerDir)), ...staged], {
      baseImage: req.baseImage ?? null,
      plan: req.plan ?? null,
    });
    log.info(`Content hash ${address.hash} over ${address.files.length} files:`);
    for (const file of uploaded) log.info(`  ${file.rel} (${file.origin})`);

    const prepared = await gallery.ensure();
    for (const c of prepared.created) log.info(`Created ${c} (from the manifest's azure: block).`);
    for (const u of prepared.updated) log.info(`Updated ${u}.`);
    for (const w of prepared.warnings) log.warning(w);
    const versions = await gallery.listVersions();
    const skip = req.force ? undefined : reusableVersion(versions, address.hash);
    if (skip) {
      if (req.imageVersion !== undefined && req.imageVersion !== skip.name) {
        log.notice(
          `image-version ${req.imageVersion} was asked for, but version ${skip.name} was already baked from the same inputs: reusing it. Set force: true to bake ${req.imageVersion} anyway.`,
        );
      }
      return {
        status: "skipped",
        imageVersion: skip.name,
        imageId: skip.id,
        contentHash: address.hash,
        reason: `Version ${skip.name} in ${gallery.label} was baked from the same inputs (content hash tag).`,
        durationMs: now() - started,
        files: address.files,
      };
    }

    const version = req.imageVersion ?? nextVersion(versions.map((v) => v.name));
    const taken = versions.find((v) => v.name === version);
    if (taken) {
      throw new UserError(
        `Image version ${version} already exists in ${gallery.label} (${taken.provisioningState || "unknown state"}, content hash ${taken.tags[TAGS.contentHash] ?? "not tagged"}).`,
        `A gallery version is never rebuilt in place: set image-version to a new version, or leave it empty to publish ${nextVersion(versions.map((v) => v.name))}.`,
      );
    }

    const tags = {
      ...req.tags,
      [TAGS.contentHash]: address.hash,
      ...(req.commit ? { [TAGS.commit]: req.commit } : {}),
    };
    const installedPacker = await packerVersion(req.packer);
    log.info(`Packer ${formatVersion(installedPacker)} (${req.packer})`);
    checkPackerVersion(installedPacker, await requiredPackerVersion(req.packerDir, req.packerDirDisplay));
    await runInit(req, log, installedPacker);
    await runBuild(req, log, now, {
      version,
      contentHash: address.hash,
      installScriptsDir: join(staging, "install", "desktop"),
      tags,
      started,
    });

    // Packer's artifact is its own report; the gallery is the truth the fleet deploys from.
    const published = (await gallery.listVersions()).find((v) => v.name === version);
    if (!published) {
      throw new UserError(
        `Packer finished, but ${gallery.label} has no version ${version}.`,
        `The template in ${req.packerDirDisplay} must publish to the gallery named by the variables the bake passes (gallery_resource_group_name, gallery_name, gallery_image_name, gallery_image_version) with shared_image_gallery_destination.`,
      );
    }
    if (published.provisioningState !== "Succeeded") {
      throw new UserError(
        `Image version ${version} in ${gallery.label} is ${published.provisioningState || "in an unknown state"} after the build, not Succeeded.`,
        "Look at the version in the Azure portal (Activity log) for the replication error, then bake again with a new version.",
      );
    }
    await gallery.tagVersion(version, tags);
    return {
      status: "built",
      imageVersion: version,
      imageId: published.id,
      contentHash: address.hash,
      reason: builtReason(req.force, versions.length),
      durationMs: now() - started,
      packerVersion: formatVersion(installedPacker),
      files: address.files,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The highest Succeeded version tagged with `hash`, if any. */
export function reusableVersion(versions: ImageVersionInfo[], hash: string): ImageVersionInfo | undefined {
  return versions
    .filter(
      (v) => v.tags[TAGS.contentHash] === hash && v.provisioningState === "Succeeded" && parseVersion(v.name),
    )
    .sort((a, b) => compareVersions(parseVersion(b.name)!, parseVersion(a.name)!))[0];
}

function builtReason(force: boolean, existing: number): string {
  if (force) return "Baked because force was set.";
  return existing === 0
    ? "Baked the first version of the image definition."
    : "Baked because no Succeeded version carries this content hash.";
}

const PACKER_ENV = {
  // No update check against HashiCorp's servers on every run.
  CHECKPOINT_DISABLE: "1",
  PACKER_NO_COLOR: "1",
};

async function runInit(req: BakeRequest, log: BakeLog, version: Version): Promise<void> {
  if (!hasInitCommand(version)) {
    log.notice(
      `Packer ${formatVersion(version)} predates \`packer init\` (1.7.0): skipping it; the template's builders must be built into this Packer.`,
    );
    return;
  }
  log.startGroup("packer init");
  try {
    const result = await runPacker(req.packer, ["init", "."], {
      cwd: req.packerDir,
      env: { ...process.env, ...PACKER_ENV },
      onLine: (line) => log.info(line),
    });
    if (isUnknownCommand(result)) {
      log.notice("This Packer has no `init` command: skipping it; the template's builders must be built in.");
    } else if (result.exitCode !== 0) {
      throw new UserError(
        `packer init failed in ${req.packerDirDisplay} (exit ${result.exitCode}):\n${result.lines.join("\n")}`,
        "Check the required_plugins block (source and version) and that the runner reaches github.com.",
      );
    }
  } finally {
    log.endGroup();
  }
}

interface BuildParams {
  version: string;
  contentHash: string;
  installScriptsDir: string;
  tags: Record<string, string>;
  started: number;
}

async function runBuild(req: BakeRequest, log: BakeLog, now: () => number, p: BuildParams): Promise<void> {
  const vars = packerVariables(
    {
      ...req.identity,
      auth: req.auth,
      buildResourceGroup: req.buildResourceGroup,
      vmSize: req.vmSize,
      ...(req.baseImage ? { baseImage: req.baseImage } : {}),
      ...(req.plan ? { plan: req.plan } : {}),
      installScriptsDir: p.installScriptsDir,
      galleryResourceGroup: req.gallery.resourceGroup,
      galleryName: req.gallery.name,
      imageDefinition: req.gallery.imageDefinition,
      imageVersion: p.version,
      replicationRegions: req.gallery.replicationRegions,
      tags: p.tags,
    },
    req.oidc,
  );
  const args = ["build", "-machine-readable", ...vars.args, "."];
  log.info(`Baking image version ${p.version}: packer ${args.join(" ")}`);

  let groupOpen = false;
  const output = new PackerBuildOutput((event) => {
    if (event.kind === "step") {
      if (groupOpen) log.endGroup();
      log.startGroup(`[${formatDuration(now() - p.started)}] ${event.title}`);
      groupOpen = true;
    } else {
      if (event.stream === "summary" && groupOpen) {
        log.endGroup();
        groupOpen = false;
      }
      log.info(event.text);
    }
  });
  let result: Awaited<ReturnType<typeof runPacker>>;
  try {
    result = await runPacker(req.packer, args, {
      cwd: req.packerDir,
      env: { ...process.env, ...PACKER_ENV, ...vars.env },
      onLine: (line, stream) => (stream === "stdout" ? output.push(line) : log.info(line)),
    });
  } finally {
    if (groupOpen) log.endGroup();
  }
  const ids = output.artifactIds();
  if (ids.length > 0) log.info(`Packer artifact: ${ids.join(", ")}`);
  if (result.exitCode === 0) return;

  const messages = output.failureMessages();
  if (messages.length === 0) messages.push(...result.lines.slice(-20));
  throw new PackerBuildFailure(
    p.version,
    p.contentHash,
    messages,
    failureFindings(output, messages, req.packerDirDisplay),
    now() - p.started,
    result.exitCode,
  );
}

/**
 * Annotations for a failed build: template errors at their file and line (Packer's HCL
 * diagnostics name them), build errors on the template directory.
 */
function failureFindings(output: PackerBuildOutput, messages: string[], display: string): Finding[] {
  if (output.buildErrors.length === 0) {
    const located = parsePackerOutput(output.uiErrors.join("\n"), display);
    if (located.length > 0) {
      return located.map((f) => ({ ...f, title: f.title?.replace(/^packer validate/, "packer build") }));
    }
  }
  return messages.map((message) => ({
    file: display,
    severity: "error" as const,
    title: "packer build",
    message,
  }));
}
