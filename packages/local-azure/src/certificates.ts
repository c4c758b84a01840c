// A throw-away certificate authority and a server certificate for 127.0.0.1 / localhost.
// The Azure SDKs refuse bearer-token authentication over plain http
// (bearerTokenAuthenticationPolicy: "Bearer token authentication is not permitted for non-TLS
// protected (non-https) URLs"), so the stand-in must speak TLS with a certificate the client trusts.
import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

export interface CertificateSet {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

function serialNumber(): string {
  // Positive, 16 random bytes; a leading 0 nibble keeps it from being read as negative.
  return `0${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
}

function validity(cert: forge.pki.Certificate): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + 365 * 24 * 3600 * 1000);
}

/** RSA key pair from Node's native generator (node-forge's pure-JS one takes seconds). */
function rsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/** Generates a CA and a server certificate signed by it (RSA 2048, SHA-256). */
export function generateCertificates(): CertificateSet {
  const caKeys = rsaKeyPair();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  validity(ca);
  const caSubject = [
    { name: "commonName", value: "local-azure test CA" },
    { name: "organizationName", value: "openclawps" },
  ];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = rsaKeyPair();
  const server = forge.pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serialNumber();
  validity(server);
  server.setSubject([{ name: "commonName", value: "127.0.0.1" }]);
  server.setIssuer(caSubject);
  server.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    // Node checks the subjectAltName, not the CN (RFC 6125); type 7 = IP, type 2 = DNS.
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: "127.0.0.1" },
        { type: 2, value: "localhost" },
      ],
    },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caCertPem: forge.pki.certificateToPem(ca),
    serverCertPem: forge.pki.certificateToPem(server),
    serverKeyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
  };
}
