// The Key Vault secrets source (`secrets: { key_vault: <name> }`): one secret per claw, named here
// and only here, holding the same JSON object CLAW_SECRETS_JSON holds for that claw. deploy-fleet
// never reads a value on this path: it sees secret names and version ids (ARM's secret metadata),
// and the plan reports which claws' secrets have a version their VM has not loaded yet.
import { TAGS } from "./tags.ts";
import type { ResolvedFleet } from "./types.ts";

/** Prefix of every claw's secret name: `claw-<claw name>`. */
export const KEY_VAULT_SECRET_PREFIX = "claw-";

/**
 * The built-in role "Key Vault Secrets User" (read secret contents), the same id in every tenant;
 * assigned to each claw's VM identity at its own secret's scope only.
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security#key-vault-secrets-user
 */
export const KEY_VAULT_SECRETS_USER_ROLE_ID = "4633458b-17de-408a-b874-0445c86b69e6";

/**
 * The claw's secret name. Claw names are host names (letters, digits and hyphens, at most 64:
 * the linuxComputerName rule), so `claw-<name>` always passes the keyVaultSecret rule; the
 * fleet-model tests hold that.
 */
export function keyVaultSecretName(claw: string): string {
  return `${KEY_VAULT_SECRET_PREFIX}${claw}`;
}

/** The vault's name when the manifest selects Key Vault; undefined for CLAW_SECRETS_JSON. */
export function keyVaultOf(fleet: Pick<ResolvedFleet, "secrets">): string | undefined {
  return fleet.secrets.key_vault;
}

/** One claw's secret as the plan sees it: names and version ids, never a value. */
export interface SecretVersionChange {
  claw: string;
  secret: string;
  /** Version the claw's VM last loaded (its TAGS.secretVersion); undefined when none recorded. */
  loaded: string | undefined;
  /** Current version in the vault; undefined when the secret does not exist. */
  current: string | undefined;
  /** missing: no such secret; rotated: a newer version than the VM loaded; new: no VM loaded one yet. */
  status: "missing" | "rotated" | "new" | "unchanged";
}

/**
 * Per active claw: its secret's current version against the version its VM last loaded.
 * `versions` maps lower-cased secret names to their current version id (Key Vault names are
 * case-insensitive); `vmTags` maps claw names to their VM's tags (absent: no VM).
 */
export function planSecretVersions(
  fleet: Pick<ResolvedFleet, "claws">,
  versions: ReadonlyMap<string, string>,
  vmTags: ReadonlyMap<string, Record<string, string> | undefined>,
): SecretVersionChange[] {
  return fleet.claws
    .filter((c) => !c.retired)
    .map((c) => {
      const secret = c.names.keyVaultSecret;
      const current = versions.get(secret.toLowerCase());
      const loaded = vmTags.get(c.name)?.[TAGS.secretVersion];
      const status = !current ? "missing" : !loaded ? "new" : loaded === current ? "unchanged" : "rotated";
      return { claw: c.name, secret, loaded, current, status };
    });
}

/** The version id at the end of a secret URI (`https://v.vault.azure.net/secrets/name/<version>`). */
export function secretVersionOf(secretUriWithVersion: string | undefined): string | undefined {
  const m = /\/secrets\/[^/]+\/([0-9a-f]{32})\/?$/i.exec(secretUriWithVersion ?? "");
  return m?.[1]?.toLowerCase();
}

const short = (v: string | undefined) => (v ? `\`${v.slice(0, 8)}\`` : "—");

/** The plan summary's Key Vault section: counts, then the claws whose secret changed or is missing. */
export function renderSecretVersionsMarkdown(
  vault: string,
  vaultExists: boolean,
  changes: readonly SecretVersionChange[],
  limit = 50,
): string {
  const count = (s: SecretVersionChange["status"]) => changes.filter((c) => c.status === s).length;
  let md = `\n### Secrets — Key Vault \`${vault}\`${vaultExists ? "" : " (created on apply)"}\n\n`;
  md += `${count("unchanged")} loaded, ${count("rotated")} rotated (refreshed on apply, no VM replaced), `;
  md += `${count("new")} not yet recorded on a VM, ${count("missing")} missing.\n`;
  const listed = changes.filter((c) => c.status === "rotated" || c.status === "missing");
  if (listed.length === 0) return md;
  md += "\n| Claw | Secret | Loaded | Current |\n| --- | --- | --- | --- |\n";
  for (const c of listed.slice(0, limit)) {
    md += `| ${c.claw} | \`${c.secret}\` | ${short(c.loaded)} | ${c.status === "missing" ? "**missing**" : short(c.current)} |\n`;
  }
  if (listed.length > limit)
    md += `\n…and ${listed.length - limit} more (the plan output lists every claw).\n`;
  return md;
}
