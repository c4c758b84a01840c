// Key Vault secrets (`secrets: { key_vault }`): every active claw's secret must exist in the vault.
// Names only: the list comes from whoever may list the vault's secrets (ARM metadata); validate
// on a pull request has no Azure identity, so the check is skipped there and deploy-fleet's plan
// makes it (a missing secret is a warning naming the claw).
import type { Finding } from "@openclawps/action-kit";
import type { ParseResult, ResolvedFleet } from "@openclawps/fleet-model";

export interface KeyVaultNamesCheck {
  /** One line for the summary table. */
  detail: string;
  findings: Finding[];
  skipped: boolean;
}

export function checkKeyVaultSecretNames(options: {
  fleet: ResolvedFleet;
  manifest: ParseResult;
  manifestDisplay: string;
  /** Secret names in the vault; undefined when they could not be listed (no identity, no permission). */
  names: readonly string[] | undefined;
}): KeyVaultNamesCheck {
  const vault = options.fleet.secrets.key_vault;
  if (!vault) return { detail: "secrets come from CLAW_SECRETS_JSON", findings: [], skipped: true };
  if (!options.names) {
    return {
      detail: `secret names in Key Vault ${vault} were not checked: no identity here may list them (deploy-fleet's plan checks them)`,
      findings: [],
      skipped: true,
    };
  }
  // Key Vault names are case-insensitive.
  const present = new Set(options.names.map((n) => n.toLowerCase()));
  const active = options.fleet.claws.filter((c) => !c.retired);
  const findings: Finding[] = active
    .filter((c) => !present.has(c.names.keyVaultSecret.toLowerCase()))
    .map((c) => ({
      file: options.manifestDisplay,
      ...options.manifest.locate(`claws.${c.name}`),
      severity: "error" as const,
      title: "Key Vault secret",
      message: `claw "${c.name}" has no secret ${c.names.keyVaultSecret} in Key Vault ${vault}; its VM would boot without its keys.`,
      fix: `az keyvault secret set --vault-name ${vault} --name ${c.names.keyVaultSecret} --file <the claw's secrets JSON>`,
    }));
  return {
    detail: `${active.length - findings.length} of ${active.length} claws have their secret in Key Vault ${vault}`,
    findings,
    skipped: false,
  };
}
