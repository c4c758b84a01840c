import type { Finding } from "@openclawps/action-kit";
import { chooseAdminKey, resolveFleet } from "@openclawps/fleet-model";
import { type ClawPayload, checkCustomData } from "./custom-data-check.ts";
import { checkKeyVaultSecretNames } from "./key-vault-check.ts";
import { checkManifest } from "./manifest-check.ts";
import { findOverlay } from "./overlay.ts";
import { checkPacker } from "./packer-check.ts";
import { displayPath, resolveInRepo } from "./repo-paths.ts";
import { checkSecrets } from "./secrets-check.ts";
import { runShellcheck } from "./shellcheck.ts";
import { checkExecutableBits } from "./update-scripts.ts";
import { checkVmRuntime } from "./vm-runtime-check.ts";
import type { VmRuntimeTree } from "./vm-runtime-tree.ts";

export interface ValidateOptions {
  /** Repository root: paths are resolved against it and shown relative to it. */
  workspace: string;
  /** Manifest path as given (relative to the workspace, or absolute). */
  manifest: string;
  /** Overlay directory as given; undefined or "" → `vm-runtime/` beside the manifest, if it exists. */
  vmRuntime?: string;
  /** The vm-runtime shipped with the actions. */
  shippedVmRuntime: string;
  /** Packer template directory as given; undefined or "" → Packer is not checked. */
  packerDir?: string;
  /** CLAW_SECRETS_JSON; undefined or "" → secrets are not checked. */
  secretsJson?: string;
  /** Called with every secret value as soon as it is parsed, before anything else sees it. */
  maskSecret?: (value: string) => void;
  /** PATH used to find shellcheck and packer (default: the process's PATH). */
  path?: string;
  /** The admin-public-key input, for a manifest without `ssh.admin_public_key`; "" = none. */
  adminPublicKey?: string;
  /** The run is for a pull request: `packer init` installs only allow-listed plugins. */
  pullRequest?: boolean;
  /**
   * Key Vault secrets: the secret names in the manifest's vault, from a caller that may list them;
   * undefined → the names are not checked (validate on a pull request has no Azure identity).
   */
  keyVaultSecretNames?: readonly string[];
}

export type CheckStatus = "passed" | "failed" | "warnings" | "skipped";

export interface CheckOutcome {
  name: string;
  status: CheckStatus;
  /** One line for the summary table: what was checked, or why it was skipped. */
  detail: string;
  findings: Finding[];
}

export interface ValidationReport {
  checks: CheckOutcome[];
  /** Every finding of every check. */
  findings: Finding[];
  errors: number;
  warnings: number;
  /** Things the reader must know that belong to no file: a check that could not run. */
  notices: string[];
  /** Per-claw customData sizes, when the manifest was valid enough to render. */
  claws: ClawPayload[];
  manifestDisplay: string;
  overlayDisplay?: string;
}

function outcome(name: string, detail: string, findings: Finding[], skipped = false): CheckOutcome {
  const status: CheckStatus = skipped
    ? "skipped"
    : findings.some((f) => f.severity === "error")
      ? "failed"
      : findings.some((f) => f.severity === "warning")
        ? "warnings"
        : "passed";
  return { name, status, detail, findings };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Runs every check on a fleet repository. User mistakes are findings; only bugs throw. */
export async function validateFleet(options: ValidateOptions): Promise<ValidationReport> {
  const { workspace } = options;
  const checks: CheckOutcome[] = [];
  const notices: string[] = [];

  // ---- manifest
  const manifestAbs = resolveInRepo(workspace, options.manifest, "Input 'manifest'");
  const manifestDisplay = displayPath(workspace, manifestAbs);
  const manifest = checkManifest(manifestAbs, manifestDisplay);
  const parsed = manifest.parse?.manifest;
  const clawNames = parsed ? Object.keys(parsed.claws) : [];
  const active = parsed ? clawNames.filter((c) => !parsed.claws[c]?.retired) : [];
  checks.push(
    outcome(
      "Manifest",
      parsed
        ? `\`${manifestDisplay}\`: ${plural(clawNames.length, "claw")}${active.length < clawNames.length ? ` (${clawNames.length - active.length} retired)` : ""}`
        : `\`${manifestDisplay}\``,
      manifest.findings,
    ),
  );

  // ---- vm-runtime overlay
  const overlay = findOverlay(workspace, manifestAbs, options.vmRuntime ?? "");
  const overlayAbs = overlay.dir;
  const overlayFindings: Finding[] = overlay.problem
    ? [{ file: overlay.shown, severity: "error", title: "vm-runtime overlay", ...overlay.problem }]
    : [];
  const overlayNote = overlay.dir
    ? `overlay \`${overlay.shown}/\``
    : overlay.given
      ? `overlay \`${overlay.shown}/\` missing`
      : `no overlay (no \`${overlay.shown}/\`)`;
  // What cloud-init actually writes onto a claw; the script checks look at these files.
  const { tree, payload, updateFindings, payloadFindings } = checkVmRuntime({
    workspace,
    shipped: options.shippedVmRuntime,
    ...(overlayAbs ? { overlay: overlayAbs } : {}),
  });
  const ships = new Set(payload.files.map((f) => f.path));
  const shipped: VmRuntimeTree = { files: tree.files.filter((f) => ships.has(f.rel)), refused: tree.refused };
  const overlayFiles = tree.files.filter((f) => f.origin === "overlay");
  const updates = shipped.files.filter((f) => f.rel.startsWith("updates/"));
  const overlayDetail = overlayFiles.length
    ? `: ${plural(overlayFiles.length, "file")}, ${overlayFiles.filter((f) => f.replacesShipped).length} replacing shipped ones`
    : "";
  checks.push(
    outcome(
      "vm-runtime",
      `${overlayNote}${overlayDetail}; ${plural(payload.files.length, "file")} go onto each claw, ${plural(updates.length, "update script")} (${updates.filter((f) => f.origin === "overlay").length} from the overlay)`,
      [...overlayFindings, ...updateFindings, ...payloadFindings],
    ),
  );
  const shFiles = shipped.files.filter((f) => f.rel.endsWith(".sh")).length;
  checks.push(outcome("Executable bits", plural(shFiles, "shell script"), checkExecutableBits(shipped)));

  // ---- external tools, side by side
  const packerDirAbs = options.packerDir
    ? resolveInRepo(workspace, options.packerDir, "Input 'packer-dir'")
    : undefined;
  const [shellcheck, packer] = await Promise.all([
    runShellcheck(tree, {
      only: (f) => ships.has(f.rel),
      ...(options.path !== undefined ? { path: options.path } : {}),
    }),
    packerDirAbs
      ? checkPacker({
          dir: packerDirAbs,
          display: displayPath(workspace, packerDirAbs),
          ...(options.path !== undefined ? { path: options.path } : {}),
          pullRequest: options.pullRequest ?? false,
        })
      : undefined,
  ]);
  if (shellcheck.ran) {
    checks.push(
      outcome(
        "shellcheck",
        `${plural(shellcheck.scripts, "script")} linted with shellcheck ${shellcheck.version ?? ""}`.trim(),
        shellcheck.findings,
      ),
    );
  } else {
    const why = `shellcheck is not on PATH: ${plural(shellcheck.scripts, "script")} not linted`;
    checks.push(outcome("shellcheck", why, [], true));
    notices.push(
      `${why}. Install it (apt-get install shellcheck; GitHub's Ubuntu runners have it) to lint vm-runtime scripts.`,
    );
  }

  // ---- secrets and customData need a usable manifest
  const secretsGiven = !!options.secretsJson?.trim();
  let secretsCheck: ReturnType<typeof checkSecrets> | undefined;
  const keyVault = manifest.parse?.manifest?.secrets.key_vault;
  if (keyVault && manifest.parse?.manifest) {
    const kv = checkKeyVaultSecretNames({
      fleet: resolveFleet(manifest.parse.manifest, manifestDisplay),
      manifest: manifest.parse,
      manifestDisplay,
      names: options.keyVaultSecretNames,
    });
    checks.push(outcome("Secrets", kv.detail, kv.findings, kv.skipped));
  } else if (!secretsGiven) {
    checks.push(
      outcome(
        "Secrets",
        "secrets were not checked: no secrets-json given (pull requests from forks get no secrets)",
        [],
        true,
      ),
    );
  } else if (!manifest.parse?.manifest) {
    checks.push(outcome("Secrets", "secrets were not checked: the manifest has errors", [], true));
  } else {
    secretsCheck = checkSecrets({
      json: options.secretsJson ?? "",
      clawNames: active,
      manifest: manifest.parse,
      manifestDisplay,
      mask: options.maskSecret ?? (() => {}),
    });
    checks.push(
      outcome(
        "Secrets",
        `${plural(secretsCheck.secrets.size, "claw")} with secrets in CLAW_SECRETS_JSON`,
        secretsCheck.findings,
      ),
    );
  }

  let claws: ClawPayload[] = [];
  if (!manifest.parse?.manifest) {
    checks.push(outcome("customData", "not rendered: the manifest has errors", [], true));
  } else if (payload.issues.length > 0) {
    // cloud-init refuses to render a payload with problems; they are reported above.
    checks.push(outcome("customData", "not rendered: the vm-runtime overlay has problems", [], true));
  } else {
    const fleet = resolveFleet(manifest.parse.manifest, manifestDisplay);
    // The same choice deploy-fleet makes: the manifest's key, else the input's.
    const keyFindings: Finding[] = [];
    const adminKey = chooseAdminKey(fleet.ssh.admin_public_key, options.adminPublicKey ?? "");
    if (adminKey.problem) {
      keyFindings.push({
        file: manifestDisplay,
        severity: adminKey.source === "manifest" ? "warning" : "error",
        title: "admin public key",
        message: `Input 'admin-public-key': ${adminKey.problem}.`,
        fix: "Pass one OpenSSH public key line (ssh-ed25519 AAAA... you@host), or set ssh.admin_public_key in the manifest.",
      });
    } else if (!adminKey.key && fleet.claws.some((c) => !c.retired)) {
      notices.push(
        `No admin public key: ${manifestDisplay} has no ssh.admin_public_key and the admin-public-key input is empty. ` +
          "deploy-fleet refuses to create VMs without one: add the key to the manifest's ssh: block, or pass it to validate and deploy-fleet as admin-public-key.",
      );
    }
    if (adminKey.key) fleet.ssh = { ...fleet.ssh, admin_public_key: adminKey.key };
    const custom = checkCustomData({
      fleet,
      manifest: manifest.parse,
      manifestDisplay,
      vmRuntimeDir: options.shippedVmRuntime,
      ...(overlayAbs ? { overlayDir: overlayAbs } : {}),
      payload,
      ...(secretsCheck ? { secrets: secretsCheck.secrets } : {}),
    });
    claws = custom.claws;
    const sizes = claws.flatMap((c) => (c.bytes === undefined ? [] : [c.bytes]));
    checks.push(
      outcome(
        "customData",
        `${sizes.length} of ${plural(claws.length, "active claw")} rendered${sizes.length ? `; largest ${Math.max(...sizes).toLocaleString("en-US")} bytes` : ""}`,
        [...keyFindings, ...custom.findings],
      ),
    );
  }

  if (!packer) {
    checks.push(outcome("Packer", "no packer-dir given", [], true));
  } else if (!packer.ran && packer.findings.length === 0) {
    const why = "packer is not on PATH: the template was not validated";
    checks.push(outcome("Packer", why, [], true));
    notices.push(
      `${why}. Install Packer (GitHub's Ubuntu runners have it) to validate ${options.packerDir}.`,
    );
  } else {
    checks.push(
      outcome("Packer", packer.ran ? `Packer ${packer.version}: ${packer.mode}` : "not run", packer.findings),
    );
  }

  const findings = checks.flatMap((c) => c.findings);
  return {
    checks,
    findings,
    errors: findings.filter((f) => f.severity === "error").length,
    warnings: findings.filter((f) => f.severity === "warning").length,
    notices,
    claws,
    manifestDisplay,
    ...(overlayAbs ? { overlayDisplay: displayPath(workspace, overlayAbs) } : {}),
  };
}
