// A throw-away certificate authority and a server certificate for 127.0.0.1 / localhost.
// The Azure SDKs refuse bearer-token authentication over plain http
// (bearerTokenAuthenticationPolicy: "Bearer token authentication is not permitted for non-TLS
// protected (non-https) URLs"), so the stand-in must speak TLS with a certificate the client trusts.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

export interface CertificateSet {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** Bytes in a serial number: 126 random bits, within RFC 5280's 20-octet limit. */
export const SERIAL_NUMBER_BYTES = 16;

/**
 * A certificate serial number (hex) made from SERIAL_NUMBER_BYTES random bytes: positive,
 * non-zero and with a first byte of 0x40..0x7f, so its DER INTEGER is exactly that many bytes
 * with nothing to strip or pad (RFC 5280 4.1.2.2). forge writes the hex as given and strips at
 * most one leading 0x00 byte (node-forge asn1.toDer), and OpenSSL 3 rejects an INTEGER that
 * still starts with a 0x00 byte followed by one below 0x80 ("illegal padding"): Node then
 * cannot load such a CA from `ca`, and the server's certificate fails to verify.
 */
export function serialNumberFrom(random: Uint8Array): string {
  if (random.length !== SERIAL_NUMBER_BYTES) {
    throw new Error(`serialNumberFrom: expected ${SERIAL_NUMBER_BYTES} bytes, got ${random.length}`);
  }
  const bytes = Buffer.from(random);
  bytes[0] = 0x40 | (bytes[0]! & 0x3f);
  return bytes.toString("hex");
}

function serialNumber(): string {
  return serialNumberFrom(randomBytes(SERIAL_NUMBER_BYTES));
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
        // Key Vault data planes: https://{vault}.vault.localhost (Azure: {vault}.vault.azure.net).
        { type: 2, value: "*.vault.localhost" },
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
