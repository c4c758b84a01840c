// What a Key Vault client in this process needs to reach a local vault at
// https://{vault}.vault.localhost:PORT: a name lookup that answers 127.0.0.1 for that zone (the
// system resolver does not know it), and challenge-resource verification off (the SDK checks that
// the vault's host ends with the challenge's resource, `vault.azure.net`; see
// https://aka.ms/azsdk/blog/vault-uri).
import type { LookupAddress, LookupOptions } from "node:dns";
import { lookup } from "node:dns";
import { Agent } from "node:https";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { VAULT_DNS_SUFFIX } from "./providers/key-vault.ts";

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup with `*.vault.localhost` → 127.0.0.1. */
export function vaultLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  if (hostname.toLowerCase().endsWith(`.${VAULT_DNS_SUFFIX}`)) {
    if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
    return;
  }
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) callback(err, []);
    else if (options.all) callback(null, addresses);
    else callback(null, addresses[0]?.address ?? "", addresses[0]?.family);
  });
}

/**
 * Options for `new SecretClient(vaultUrl, credential, options)` from `@azure/keyvault-secrets`:
 * every request goes through an agent that resolves the local vault zone (the CA must be trusted,
 * see trustCaInProcess).
 */
export function keyVaultClientOptions(): {
  disableChallengeResourceVerification: true;
  additionalPolicies: { position: "perCall"; policy: PipelinePolicy }[];
} {
  const agent = new Agent({ lookup: vaultLookup, keepAlive: true });
  return {
    disableChallengeResourceVerification: true,
    additionalPolicies: [
      {
        position: "perCall",
        policy: {
          name: "localVaultAgent",
          sendRequest(req, next) {
            req.agent ??= agent;
            return next(req);
          },
        },
      },
    ],
  };
}
