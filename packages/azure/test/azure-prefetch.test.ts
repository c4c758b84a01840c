// An action's start (action-kit's prefetchAzureToken) and connectAzure together, against the
// local Azure over HTTPS: the exchange the action started is the one its ARM clients use, when
// connectAzure asks with the same parameters; otherwise connectAzure makes its own. The CA is
// trusted process-wide here, as an action trusts it through NODE_EXTRA_CA_CERTS.
import { getAzureInputs } from "@openclawps/action-kit";
import { prefetchAzureToken } from "@openclawps/action-kit/azure-prefetch";
import { type LocalAzure, trustCaInProcess } from "@openclawps/local-azure";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeAzureError } from "../src/azure-error.ts";
import { connectAzure } from "../src/connect.ts";
import { startAzure } from "./local-azure.ts";

const RG = "rg-prefetch";
let azure: LocalAzure;
let saved: NodeJS.ProcessEnv;

beforeAll(async () => {
  azure = await startAzure();
  saved = { ...process.env };
  trustCaInProcess(azure.caCertPem);
  await azure.seedGalleryVersions(RG, "g", "img", ["1.0.0"], "westus");
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(() => {
  // The step's inputs, as the runner passes them.
  Object.assign(process.env, {
    "INPUT_AZURE-CLIENT-ID": azure.clientId,
    "INPUT_AZURE-TENANT-ID": azure.tenantId,
    "INPUT_AZURE-SUBSCRIPTION-ID": azure.subscriptionId,
    "INPUT_AZURE-ARM-ENDPOINT": azure.armEndpoint,
    "INPUT_AZURE-AUTHORITY-HOST": `${azure.authorityHost}/`,
  });
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  azure.setIdTokenClaims({});
});

const since = (at: number) =>
  azure.requestLog.filter((e) => e.at >= at && e.service !== "arm").map((e) => e.operation);

describe("the exchange an action starts before its body loads", () => {
  it("is the one connectAzure's clients use: one OIDC request and one exchange for the run", async () => {
    const at = Date.now();
    await prefetchAzureToken();
    const ctx = connectAzure({ ...getAzureInputs(), resourceGroup: RG, pollIntervalMs: 0 });
    expect((await ctx.resources.resourceGroups.get(RG)).name).toBe(RG);
    await ctx.compute.virtualMachines.list(RG).next();
    expect(since(at)).toEqual(["github.idToken", "entra.token"]);
  });

  it("is left alone when connectAzure asks with other parameters (here its own CA): it makes its own", async () => {
    const at = Date.now();
    await prefetchAzureToken();
    const ctx = connectAzure({
      ...getAzureInputs(),
      resourceGroup: RG,
      caCertPem: azure.caCertPem,
      pollIntervalMs: 0,
    });
    await ctx.resources.resourceGroups.get(RG);
    expect(since(at)).toEqual(["github.idToken", "entra.token", "github.idToken", "entra.token"]);
  });

  it("hands its refusal to connectAzure's first request, described as any exchange's, and is not repeated", async () => {
    azure.setIdTokenClaims({ sub: "repo:octo/fleet:pull_request" });
    const at = Date.now();
    await prefetchAzureToken();
    const ctx = connectAzure({ ...getAzureInputs(), resourceGroup: RG, pollIntervalMs: 0 });
    const err = await ctx.resources.resourceGroups.get(RG).then(
      () => new Error("expected the exchange to be refused"),
      (e: unknown) => e,
    );
    expect(describeAzureError(err, { clientId: azure.clientId })).toContain(
      "a pull request must not have Azure access",
    );
    expect(since(at)).toEqual(["github.idToken", "entra.token"]);
  });
});
