// The stand-in's throw-away CA and server certificate, checked with the parser every client uses
// (OpenSSL through node:crypto / node:tls), not with the library that wrote them.
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import forge from "node-forge";
import { describe, expect, it } from "vitest";
import { generateCertificates, SERIAL_NUMBER_BYTES, serialNumberFrom } from "../src/certificates.ts";

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const key = forge.pki.privateKeyFromPem(privateKey);

/** A self-signed certificate carrying the serial made from `random`, as OpenSSL reads it. */
function certificateWithSerialFrom(random: Uint8Array): X509Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serialNumberFrom(random);
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 3600_000);
  cert.setSubject([{ name: "commonName", value: "serial" }]);
  cert.setIssuer([{ name: "commonName", value: "serial" }]);
  cert.sign(key, forge.md.sha256.create());
  return new X509Certificate(forge.pki.certificateToPem(cert));
}

function expectMinimalPositiveSerial(cert: X509Certificate): void {
  expect(cert.serialNumber).toMatch(new RegExp(`^[0-9A-F]{${SERIAL_NUMBER_BYTES * 2}}$`));
  // 0x40..0x7f: positive, and no leading byte DER would call padding.
  expect(Number.parseInt(cert.serialNumber.slice(0, 2), 16)).toBeGreaterThanOrEqual(0x40);
  expect(Number.parseInt(cert.serialNumber.slice(0, 2), 16)).toBeLessThanOrEqual(0x7f);
}

describe("certificate serial numbers", () => {
  // Random bytes that begin 0x00 followed by a byte below 0x80 once gave a serial OpenSSL
  // rejects as illegal padding (about 1 certificate in 512); a CA like that could not be
  // trusted, and every request to that stand-in failed with UNABLE_TO_VERIFY_LEAF_SIGNATURE.
  it.each([
    ["zero bytes", new Uint8Array(SERIAL_NUMBER_BYTES)],
    [
      "a 0x00 byte then a small one",
      Uint8Array.from({ length: SERIAL_NUMBER_BYTES }, (_, i) => (i === 1 ? 0x32 : 0)),
    ],
    [
      "a 0x00 byte then a large one",
      Uint8Array.from({ length: SERIAL_NUMBER_BYTES }, (_, i) => (i === 1 ? 0x80 : 0)),
    ],
    ["0xff bytes", new Uint8Array(SERIAL_NUMBER_BYTES).fill(0xff)],
    [
      "a 0xff byte then a small one",
      Uint8Array.from({ length: SERIAL_NUMBER_BYTES }, (_, i) => (i === 0 ? 0xff : 0x01)),
    ],
  ])("are encoded so OpenSSL reads them, even from %s", (_name, random) => {
    expectMinimalPositiveSerial(certificateWithSerialFrom(random));
  });

  it("are encoded so OpenSSL reads them, whatever the random bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: SERIAL_NUMBER_BYTES, maxLength: SERIAL_NUMBER_BYTES }),
        (random) => {
          expectMinimalPositiveSerial(certificateWithSerialFrom(random));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("keep the random bytes after the first", () => {
    const random = Uint8Array.from({ length: SERIAL_NUMBER_BYTES }, (_, i) => i * 17);
    expect(serialNumberFrom(random).slice(2)).toBe(Buffer.from(random.subarray(1)).toString("hex"));
  });

  it("refuse a random buffer of the wrong length", () => {
    expect(() => serialNumberFrom(new Uint8Array(15))).toThrow(/expected 16 bytes, got 15/);
  });
});

describe("generated certificates", () => {
  it("let a client that trusts only the generated CA verify the server for 127.0.0.1", async () => {
    const certs = generateCertificates();
    expectMinimalPositiveSerial(new X509Certificate(certs.caCertPem));
    expectMinimalPositiveSerial(new X509Certificate(certs.serverCertPem));

    const server = createServer({ key: certs.serverKeyPem, cert: certs.serverCertPem }, (_req, res) => {
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`https://127.0.0.1:${port}/`, { ca: [certs.caCertPem], agent: false }, (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString("utf8");
          });
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
      expect(body).toBe("ok");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
