// Per-claw Azure resource names. They follow the seed project's Terraform (VM `{claw}`,
// NIC `{claw}-nic`, public IP `{claw}-pip`, data disk `{claw}-data`, host name `{claw}`) so that
// a fleet the seed deployed is adopted rather than duplicated.
import { keyVaultSecretName } from "./secret-source.ts";
import type { ClawResourceNames } from "./types.ts";

export function deriveResourceNames(claw: string): ClawResourceNames {
  return {
    vm: claw,
    nic: `${claw}-nic`,
    publicIp: `${claw}-pip`,
    dataDisk: `${claw}-data`,
    computerName: claw,
    keyVaultSecret: keyVaultSecretName(claw),
  };
}
