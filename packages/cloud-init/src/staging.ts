// The two files cloud-init stages in /etc/claw for boot.sh, which rebuilds the data disk's
// openclaw/.env from them on every boot (vm-runtime/README.md, "Environment contract"):
//   secrets.env  root-only (0600): the claw's secrets
//   claw.env     world-readable: the claw's non-secret settings
// Both are KEY=VALUE lines with the value verbatim to the end of the line, which is also how
// the .env on the disk is written; OpenClaw reads that file with dotenv, where an unquoted
// value ends at "#" and a leading quote starts a quoted value.
import { type ClawSecrets, envValueProblem, type ResolvedClaw } from "@openclawps/fleet-model";

export const SECRETS_STAGING_PATH = "/etc/claw/secrets.env";
export const SETTINGS_PATH = "/etc/claw/claw.env";
/**
 * Key Vault secrets: where the claw's secret is (vault URL and secret name, no value). The VM's
 * keyvault-secrets.sh reads it at every boot and on refresh, and writes secrets.env itself.
 */
export const KEY_VAULT_ENV_PATH = "/etc/claw/keyvault.env";

/** Where a claw's secrets come from when they come from Key Vault. */
export interface KeyVaultSecretRef {
  /** The vault's name (claws.yaml secrets.key_vault): what the config hash covers. */
  vault: string;
  /**
   * The vault's data-plane URL as ARM reports it (`properties.vaultUri`); known once the vault
   * exists, so it stays out of the config hash (its name stands for it there).
   */
  vaultUrl: string;
  secretName: string;
}

/** Environment variable for each secret key (the names OpenClaw and boot.sh read). */
export const SECRET_ENV_NAMES: Record<keyof ClawSecrets, string> = {
  telegram_bot_token: "TELEGRAM_BOT_TOKEN",
  xai_api_key: "XAI_API_KEY",
  openai_api_key: "OPENAI_API_KEY",
  anthropic_api_key: "ANTHROPIC_API_KEY",
  moonshot_api_key: "MOONSHOT_API_KEY",
  deepseek_api_key: "DEEPSEEK_API_KEY",
  brightdata_api_token: "BRIGHTDATA_API_TOKEN",
  tailscale_authkey: "TAILSCALE_AUTHKEY",
  gateway_token: "OPENCLAW_GATEWAY_TOKEN",
};

/** A secret or setting the VM's env files cannot carry. Names the claw and field, never the value. */
export class StagingValueError extends Error {
  constructor(
    readonly claw: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "StagingValueError";
  }
}

function checked(claw: string, field: string, value: string, secret: boolean): string {
  const problem = envValueProblem(value);
  if (problem === undefined) return value;
  const what = secret ? `secret ${field} of claw "${claw}"` : `${field} of claw "${claw}"`;
  throw new StagingValueError(
    claw,
    field,
    `${what} ${problem}; fix: ${secret ? "set it in CLAW_SECRETS_JSON" : "set it in claws.yaml"} without those characters`,
  );
}

/** secrets.env: one line per non-empty secret, in a fixed order. */
export function renderSecretsEnv(claw: string, secrets: ClawSecrets): string {
  const lines: string[] = [];
  for (const [key, name] of Object.entries(SECRET_ENV_NAMES) as [keyof ClawSecrets, string][]) {
    const value = secrets[key];
    if (value === undefined || value === "") continue;
    lines.push(`${name}=${checked(claw, key, value, true)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** keyvault.env: the vault URL and the secret's name, checked like any other setting. */
export function renderKeyVaultEnv(claw: string, ref: KeyVaultSecretRef): string {
  // The key → variable names the VM maps the secret's JSON with: this table, nowhere else.
  const keys = Object.entries(SECRET_ENV_NAMES)
    .map(([key, name]) => `${key}:${name}`)
    .join(",");
  return (
    `CLAW_KEY_VAULT_URL=${checked(claw, "secrets.key_vault", ref.vaultUrl, false)}\n` +
    `CLAW_KEY_VAULT_SECRET=${checked(claw, "secrets.key_vault", ref.secretName, false)}\n` +
    `CLAW_SECRET_KEYS=${keys}\n`
  );
}

/** claw.env: the settings boot.sh and the agent's config (${VAR} references) read. */
export function renderSettingsEnv(claw: ResolvedClaw): string {
  const settings: [string, string, string][] = [
    ["CLAW_NAME", "name", claw.name],
    ["CLAW_USER", "admin_username", claw.settings.admin_username],
    ["CLAW_MODEL", "model", claw.settings.model],
    ["TELEGRAM_USER_ID", "telegram_user_id", claw.settings.telegram_user_id],
  ];
  return `${settings.map(([name, field, value]) => `${name}=${checked(claw.name, field, value, false)}`).join("\n")}\n`;
}
