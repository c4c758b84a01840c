import { X509Certificate } from "node:crypto";
import type { LocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAzureError } from "../src/azure-error.ts";
import { connectAzure } from "../src/connect.ts";
import { ArmRequestTimeoutError } from "../src/request-timeout.ts";
import { connectTo, failure, startAzure } from "./local-azure.ts";

let azure: LocalAzure;

beforeAll(async () => {
  azure = await startAzure();
  await azure.seedGalleryVersions("rg-connect", "g", "img", ["1.0.0"], "westus");
});
afterAll(async () => {
  await azure?.stop();
});

describe("connectAzure", () => {
  it("exchanges a GitHub OIDC token for an ARM token and reads a resource group", async () => {
    const ctx = connectTo(azure, "rg-connect");
    const rg = await ctx.resources.resourceGroups.get("rg-connect");
    expect(rg.name).toBe("rg-connect");
    const log = azure.requestLog.map((e) => e.operation);
    expect(log).toContain("github.idToken");
    expect(log).toContain("entra.token");
  });

  it("asks GitHub for a fresh OIDC token for every Azure token request", async () => {
    const count = (op: string) => azure.requestLog.filter((e) => e.operation === op).length;
    const before = { id: count("github.idToken"), token: count("entra.token") };
    // Two connections = two credentials, each with an empty token cache.
    await connectTo(azure, "rg-connect").resources.resourceGroups.get("rg-connect");
    await connectTo(azure, "rg-connect").resources.resourceGroups.get("rg-connect");
    expect(count("entra.token") - before.token).toBe(2);
    expect(count("github.idToken") - before.id).toBe(2);
  });

  it("makes one GitHub OIDC request and one Entra exchange for a burst of requests from all three clients", async () => {
    const count = (op: string) => azure.requestLog.filter((e) => e.operation === op).length;
    const before = { id: count("github.idToken"), token: count("entra.token") };
    const ctx = connectTo(azure, "rg-connect");
    const drain = async (pages: AsyncIterable<unknown>) => {
      for await (const _ of pages);
    };
    await Promise.all([
      ctx.resources.resourceGroups.get("rg-connect"),
      drain(ctx.compute.virtualMachines.list("rg-connect")),
      drain(ctx.compute.disks.listByResourceGroup("rg-connect")),
      drain(ctx.network.networkInterfaces.list("rg-connect")),
      drain(ctx.network.publicIPAddresses.list("rg-connect")),
    ]);
    await ctx.resources.resourceGroups.get("rg-connect");
    expect(count("entra.token") - before.token).toBe(1);
    expect(count("github.idToken") - before.id).toBe(1);
  });

  it("builds the clients' pipelines without the form-data policy (its first look loads Node's fetch)", () => {
    const ctx = connectTo(azure, "rg-connect");
    for (const client of [ctx.compute, ctx.computeReads, ctx.network, ctx.resources]) {
      const names = client.pipeline.getOrderedPolicies().map((p) => p.name);
      expect(names).toContain("bearerTokenAuthenticationPolicy");
      expect(names).not.toContain("formDataPolicy");
    }
  });

  it("refuses a CA certificate that TLS would silently leave out", () => {
    // The stand-in's CA with its serial number's DER made non-minimal (0x00 then a byte below
    // 0x80): OpenSSL reads that as illegal padding, and Node drops such a `ca` entry unannounced.
    const der = Buffer.from(new X509Certificate(azure.caCertPem).raw);
    // version [0] { INTEGER 2 }, then the serial: INTEGER of 16 bytes.
    const at = der.indexOf(Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x10])) + 7;
    expect(at).toBeGreaterThan(7);
    der[at] = 0x00;
    der[at + 1] = 0x32;
    const badPem = `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
    expect(() => connectTo(azure, "rg-connect", { caCertPem: badPem })).toThrow(
      /certificate 1 of 1 in caCertPem cannot be read \(.*illegal padding\)/,
    );
    expect(() => connectTo(azure, "rg-connect", { caCertPem: `${azure.caCertPem}${badPem}` })).toThrow(
      /certificate 2 of 2 in caCertPem cannot be read/,
    );
    expect(() => connectTo(azure, "rg-connect", { caCertPem: "ca.pem" })).toThrow(
      /caCertPem holds no PEM certificate/,
    );
  });

  it("requires the identity fields", () => {
    expect(() =>
      connectAzure({ subscriptionId: "s", tenantId: "", clientId: "c", resourceGroup: "r" }),
    ).toThrow(/tenantId is required/);
  });
});

describe("request timeout", () => {
  it("fails a request ARM never answers after the deadline, naming the request", async () => {
    const ctx = connectTo(azure, "rg-connect", { requestTimeoutMs: 400, maxRetries: 0 });
    await ctx.resources.resourceGroups.get("rg-connect"); // the token, before the hang
    azure.injectFault({ operation: "resourceGroups.get", mode: "hang" });
    const err = await failure(ctx.resources.resourceGroups.get("rg-connect"));
    azure.clearFaults();
    expect(err).toBeInstanceOf(ArmRequestTimeoutError);
    expect((err as Error).message).toMatch(
      /^Azure Resource Manager did not answer GET \/subscriptions\/[^/]+\/resourcegroups\/rg-connect within 0\.4 s; nothing was assumed done/i,
    );
  });
});

describe("throttling", () => {
  const burst = { burst: 3, perSecond: 5 };
  const roomy = { burst: 1000, perSecond: 1000 };

  it("retries ARM's 429s after Retry-After so that none surfaces", async () => {
    azure.setThrottling({ subscriptionReads: burst });
    try {
      const ctx = connectTo(azure, "rg-connect", {
        rateLimits: { read: roomy, write: roomy, delete: roomy },
      });
      const since = Date.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => ctx.resources.resourceGroups.get("rg-connect")),
      );
      expect(results.every((r) => r.name === "rg-connect")).toBe(true);
      const throttled = azure.requestLog.filter((e) => e.at >= since && e.status === 429);
      expect(throttled.length).toBeGreaterThan(0);
    } finally {
      azure.setThrottling(false);
    }
  });

  it("keeps retrying a throttled request after the transient-error retries are used up", async () => {
    azure.setThrottling({ subscriptionReads: { burst: 1, perSecond: 2 } });
    try {
      const ctx = connectTo(azure, "rg-connect", {
        maxRetries: 0,
        rateLimits: { read: roomy, write: roomy, delete: roomy },
      });
      const since = Date.now();
      const results = await Promise.all(
        Array.from({ length: 4 }, () => ctx.resources.resourceGroups.get("rg-connect")),
      );
      expect(results.every((r) => r.name === "rg-connect")).toBe(true);
      expect(azure.requestLog.filter((e) => e.at >= since && e.status === 429).length).toBeGreaterThan(0);
    } finally {
      azure.setThrottling(false);
    }
  });

  it("keeps under the server's buckets with client limits below them, so ARM never answers 429", async () => {
    // The local Azure runs in this process: when the event loop stalls on a loaded machine,
    // requests the client spaced out reach the server's bucket at one instant. The server's burst
    // covers the client's burst plus two seconds of its rate, so only a stall longer than that
    // could make ARM answer 429 here.
    azure.setThrottling({ subscriptionReads: { burst: 6, perSecond: 4 } });
    try {
      // Headroom, as the defaults have against ARM's buckets.
      const below = { burst: 2, perSecond: 2 };
      const ctx = connectTo(azure, "rg-connect", {
        rateLimits: { read: below, write: roomy, delete: roomy },
      });
      await ctx.resources.resourceGroups.get("rg-connect"); // the token, outside the measurement
      await new Promise((r) => setTimeout(r, 1000)); // let both buckets refill
      const since = Date.now();
      await Promise.all(Array.from({ length: 8 }, () => ctx.resources.resourceGroups.get("rg-connect")));
      expect(azure.requestLog.filter((e) => e.at >= since && e.status === 429)).toEqual([]);
      expect(ctx.limiter.sent.read).toBe(9);
    } finally {
      azure.setThrottling(false);
    }
  });
});

describe("describeAzureError", () => {
  const rejected = async (sub: string) => {
    azure.setIdTokenClaims({ sub });
    try {
      const err = await failure(connectTo(azure, "rg-connect").resources.resourceGroups.get("rg-connect"));
      return describeAzureError(err, { clientId: azure.clientId });
    } finally {
      azure.setIdTokenClaims({ sub: "repo:openclawps/example-fleet:environment:production" });
    }
  };

  it("names the presented subject and, for an environment, the command to federate it", async () => {
    const message = await rejected("repo:octo/fleet:environment:staging");
    expect(message).toContain("(AADSTS700213)");
    expect(message).toContain("subject 'repo:octo/fleet:environment:staging'");
    expect(message).toContain(`az ad app federated-credential create --id ${azure.clientId}`);
    expect(message).toContain('"subject":"repo:octo/fleet:environment:staging"');
  });

  it("never hands out a command that federates a pull request or a branch: that job should not reach Azure", async () => {
    const pr = await rejected("repo:octo/fleet:pull_request");
    expect(pr).toContain("subject 'repo:octo/fleet:pull_request'");
    expect(pr).toContain("a pull request must not have Azure access");
    expect(pr).not.toContain("federated-credential create");
    const branch = await rejected("repo:octo/fleet:ref:refs/heads/feature-x");
    expect(branch).toContain("This job (branch 'feature-x') should not have Azure access");
    expect(branch).not.toContain("federated-credential create");
  });

  it("says to add `id-token: write` when the job has no OIDC token endpoint", async () => {
    const saved = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    try {
      // The action's own OIDC request (core.getIDToken behind the runner's variables).
      const ctx = connectTo(azure, "rg-connect", { getIdToken: undefined });
      const err = await failure(ctx.resources.resourceGroups.get("rg-connect"));
      expect(describeAzureError(err)).toMatch(/permissions: \{ id-token: write/);
    } finally {
      process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved;
    }
  });

  it("names the denied action, the scope and the role to assign on a 403", async () => {
    azure.setAllowedActions(["Microsoft.Resources/subscriptions/resourceGroups/read"]);
    try {
      const ctx = connectTo(azure, "rg-connect");
      const err = await failure(
        ctx.network.publicIPAddresses.createOrUpdate("rg-connect", "x-pip", { location: "westus" }, ctx.poll),
      );
      const message = describeAzureError(err, { clientId: azure.clientId });
      expect(message).toContain("'Microsoft.Network/publicIPAddresses/write'");
      expect(message).toContain(`/subscriptions/${azure.subscriptionId}/resourceGroups/rg-connect`);
      expect(message).toContain("az role assignment create");
      expect(message).toContain("--scope /subscriptions/");
      expect(message).toMatch(/403 AuthorizationFailed/);
    } finally {
      azure.setAllowedActions(undefined);
    }
  });

  it("keeps the ARM code and message of errors it has no advice for", async () => {
    const ctx = connectTo(azure, "rg-connect");
    const err = await failure(ctx.compute.disks.get("rg-connect", "no-such-disk"));
    expect(describeAzureError(err)).toMatch(/ResourceNotFound/);
    expect(describeAzureError(err)).toContain("no-such-disk");
  });
});
