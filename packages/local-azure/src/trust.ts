// Making this process trust the stand-in's CA. NODE_EXTRA_CA_CERTS is read only when Node starts,
// so a test that starts the server in-process adds the CA to the default CA set instead
// (tls.setDefaultCACertificates, Node >= 22.15 / 24.5). That covers every TLS client in the
// process: the Azure SDK pipelines, MSAL inside @azure/identity, and the GitHub OIDC request
// (action-kit's requestIdToken, or @actions/core's getIDToken, which takes no CA option at all).
import tls from "node:tls";

/** Adds a PEM CA certificate to the CAs this process trusts by default. */
export function trustCaInProcess(caCertPem: string): void {
  const current = tls.getCACertificates("default");
  if (current.includes(caCertPem)) return;
  tls.setDefaultCACertificates([...current, caCertPem]);
}
