import type { Finding } from "@openclawps/action-kit";
import {
  CUSTOM_DATA_LIMIT_BYTES,
  CustomDataTooLargeError,
  collectPayload,
  generateHostKey,
  type HostKey,
  measureCustomData,
  type Payload,
  StagingValueError,
} from "@openclawps/cloud-init";
import type { ClawSecrets, ClawSettings, ParseResult, ResolvedFleet } from "@openclawps/fleet-model";

export interface ClawPayload {
  claw: string;
  /** Decoded customData size, or undefined when it did not fit. */
  bytes?: number;
  /** `bytes` is an upper bound, below NEAR_LIMIT of Azure's limit (`exactSizes: false`). */
  atMost?: true;
  configHash?: string;
  /** Rendered with the claw's real secrets (true) or placeholders of generous length (false). */
  realSecrets: boolean;
}

export interface CustomDataCheck {
  findings: Finding[];
  claws: ClawPayload[];
}

/** Above this share of Azure's limit a claw's customData is worth a warning. */
export const NEAR_LIMIT = 0.9;

/**
 * Placeholder secrets as long as real ones get (OpenAI project keys run to ~170 characters), so
 * a fleet that fits here fits with its real secrets too.
 */
export function placeholderSecrets(): ClawSecrets {
  const value = (name: string) => `placeholder-${name}-`.padEnd(200, "x");
  return {
    telegram_bot_token: value("telegram_bot_token"),
    xai_api_key: value("xai_api_key"),
    openai_api_key: value("openai_api_key"),
    anthropic_api_key: value("anthropic_api_key"),
    moonshot_api_key: value("moonshot_api_key"),
    deepseek_api_key: value("deepseek_api_key"),
    brightdata_api_token: value("brightdata_api_token"),
    tailscale_authkey: value("tailscale_authkey"),
    gateway_token: value("gateway_token"),
  };
}

/**
 * Renders the cloud-init every active claw would get and checks it fits Azure's customData
 * limit. Nothing rendered leaves this function: it may hold real secrets.
 */
export function checkCustomData(options: {
  fleet: ResolvedFleet;
  manifest: ParseResult;
  manifestDisplay: string;
  vmRuntimeDir: string;
  overlayDir?: string;
  /** collectPayload(vmRuntimeDir, overlayDir) when the caller has it: read once per run. */
  payload?: Payload;
  secrets?: Map<string, ClawSecrets>;
  /**
   * Default true: every claw's size exactly (validate prints them). false: a claw that cannot come
   * near the limit gets an upper bound instead (deploy-fleet: only a warning or an error needs the
   * figure, and compressing each claw's own text was most of the check's CPU at 1000 claws).
   */
  exactSizes?: boolean;
}): CustomDataCheck {
  const findings: Finding[] = [];
  const claws: ClawPayload[] = [];
  const placeholders = placeholderSecrets();
  const active = options.fleet.claws.filter((c) => !c.retired);
  if (active.length === 0) return { findings, claws };
  // One host key serves every claw: only the size matters here, and key generation is not free.
  const hostKey: HostKey = generateHostKey();
  // A manifest may leave the admin key to deploy-fleet's admin-public-key input; a key of the
  // same shape stands in for it so the size is still right.
  const fleet = options.fleet.ssh.admin_public_key
    ? options.fleet
    : { ...options.fleet, ssh: { ...options.fleet.ssh, admin_public_key: hostKey.publicKey } };
  const at = (path: string) => ({ file: options.manifestDisplay, ...options.manifest.locate(path) });
  const payload = options.payload ?? collectPayload(options.vmRuntimeDir, options.overlayDir);
  // A bound at most NEAR_LIMIT of the limit raises nothing: the exact size is measured above it.
  const exactAbove = options.exactSizes === false ? { exactAbove: NEAR_LIMIT * CUSTOM_DATA_LIMIT_BYTES } : {};
  for (const claw of active) {
    const real = options.secrets?.get(claw.name);
    try {
      const rendered = measureCustomData(
        {
          fleet,
          claw,
          secrets: real ?? placeholders,
          vmRuntimeDir: options.vmRuntimeDir,
          ...(options.overlayDir ? { overlayDir: options.overlayDir } : {}),
          payload,
          hostKey,
        },
        exactAbove,
      );
      claws.push({
        claw: claw.name,
        bytes: rendered.bytes,
        ...(rendered.atMost ? { atMost: true as const } : {}),
        configHash: rendered.configHash,
        realSecrets: !!real,
      });
      if (rendered.bytes > NEAR_LIMIT * CUSTOM_DATA_LIMIT_BYTES) {
        findings.push({
          ...at(`claws.${claw.name}`),
          severity: "warning",
          title: "customData size",
          message: `customData for claw "${claw.name}" is ${rendered.bytes.toLocaleString("en-US")} bytes gzip'd, ${Math.round((rendered.bytes / CUSTOM_DATA_LIMIT_BYTES) * 100)}% of the ${CUSTOM_DATA_LIMIT_BYTES.toLocaleString("en-US")} Azure accepts.`,
          fix: "Keep large files out of the vm-runtime overlay (install them at boot instead) before the next addition no longer fits.",
        });
      }
    } catch (err) {
      claws.push({ claw: claw.name, realSecrets: !!real });
      if (err instanceof CustomDataTooLargeError) {
        // cloud-init's message names the size, the limit and the largest contributors, then a fix.
        const [message = err.message, fix] = err.message.split(/\s+Fix: /);
        findings.push({
          ...at(`claws.${claw.name}`),
          severity: "error",
          title: "customData size",
          message,
          fix: fix
            ? fix.charAt(0).toUpperCase() + fix.slice(1)
            : "Shrink or remove large files from the vm-runtime overlay (install them at boot instead of shipping them in customData).",
        });
      } else if (err instanceof StagingValueError) {
        // The message names the claw and the field, never the value.
        const [message, fix] = err.message.split("; fix: ");
        const settingPath = `claws.${claw.name}.${err.field}`;
        const isSetting =
          options.manifest.manifest?.claws[claw.name]?.[err.field as keyof ClawSettings] !== undefined;
        findings.push({
          ...at(isSetting ? settingPath : `claws.${claw.name}`),
          severity: "error",
          title: real
            ? `CLAW_SECRETS_JSON: ${claw.name}.${err.field}`
            : `customData: ${claw.name}.${err.field}`,
          message: message ?? err.message,
          ...(fix ? { fix: fix.charAt(0).toUpperCase() + fix.slice(1) } : {}),
        });
      } else {
        throw err;
      }
    }
  }
  return { findings, claws };
}
