import type { Finding } from "@openclawps/action-kit";
import {
  CustomDataTooLargeError,
  generateHostKey,
  type HostKey,
  renderCustomData,
} from "@openclawps/cloud-init";
import type { ClawSecrets, ParseResult, ResolvedFleet } from "@openclawps/fleet-model";

export interface ClawPayload {
  claw: string;
  /** Decoded customData size, or undefined when it did not fit. */
  bytes?: number;
  configHash?: string;
  /** Rendered with the claw's real secrets (true) or placeholders of generous length (false). */
  realSecrets: boolean;
}

export interface CustomDataCheck {
  findings: Finding[];
  claws: ClawPayload[];
}

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
  secrets?: Map<string, ClawSecrets>;
}): CustomDataCheck {
  const findings: Finding[] = [];
  const claws: ClawPayload[] = [];
  const placeholders = placeholderSecrets();
  // One host key serves every claw: only the size matters here, and key generation is not free.
  let hostKey: HostKey | undefined;
  for (const claw of options.fleet.claws) {
    if (claw.retired) continue;
    const real = options.secrets?.get(claw.name);
    const input = {
      fleet: options.fleet,
      claw,
      secrets: real ?? placeholders,
      vmRuntimeDir: options.vmRuntimeDir,
      ...(options.overlayDir ? { overlayDir: options.overlayDir } : {}),
    };
    hostKey ??= generateHostKey();
    try {
      const rendered = renderCustomData({ ...input, hostKey });
      claws.push({
        claw: claw.name,
        bytes: rendered.bytes,
        configHash: rendered.configHash,
        realSecrets: !!real,
      });
    } catch (err) {
      if (!(err instanceof CustomDataTooLargeError)) throw err;
      const largest = [...err.contributors]
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 5)
        .map((c) => `${c.name} (${c.bytes} bytes)`)
        .join(", ");
      findings.push({
        file: options.manifestDisplay,
        ...options.manifest.locate(`claws.${claw.name}`),
        severity: "error",
        title: "customData size",
        message: `${err.message}${largest ? ` Largest parts: ${largest}.` : ""}`,
        fix: "Shrink or remove large files from the vm-runtime overlay (install them at boot instead of shipping them in customData).",
      });
      claws.push({ claw: claw.name, realSecrets: !!real });
    }
  }
  return { findings, claws };
}
