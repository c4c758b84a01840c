// verifyAction's gates in-process: the core called with the in-memory Reporter against the local
// Azure running in this process (a real HTTPS server; the real Azure SDK through the action's own
// connectAzure). The local Azure has no guests here, so no VM agent is ready: every claw it
// checks through Run Command is unhealthy, with the reason. SSH and the bundle are covered end to
// end by verify-action.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "@openclawps/action-kit";
import { MemoryReporter } from "@openclawps/action-kit/testing";
import { connectAzure } from "@openclawps/azure";
import { TAGS } from "@openclawps/fleet-model";
import { type LocalAzure, startLocalAzure, trustCaInProcess } from "@openclawps/local-azure";
import type { ClawVerification } from "@openclawps/verify";
import { RUN_COMMAND_VERIFY_COMMAND } from "@openclawps/verify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { VerifyInputs } from "../src/inputs.ts";
import { verifyAction } from "../src/verify-action.ts";
import { manifestYaml, seedImage } from "./manifest.ts";

const RG = "rg-verify-core";
let azure: LocalAzure;
let workspace: string;

function writeManifest(claws: string): void {
  writeFileSync(join(workspace, "claws.yaml"), manifestYaml(RG, claws));
}

beforeAll(async () => {
  azure = await startLocalAzure();
  trustCaInProcess(azure.caCertPem);
  // What the runner sets for a job with `permissions: id-token: write`.
  vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_URL", azure.idTokenRequestUrl);
  vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", azure.idTokenRequestToken);
  const imageId = await seedImage(azure, RG);
  await azure.seedVirtualMachines(RG, ["alice"], {
    imageId,
    dataDiskSizeGB: 0,
    publicIp: false,
    tags: { [TAGS.claw]: "alice" },
  });
  workspace = mkdtempSync(join(tmpdir(), "verify-core-"));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await azure?.stop();
});

interface CoreRun {
  reporter: MemoryReporter;
  results?: ClawVerification[];
  error?: UserError;
  /** ARM requests the run made. */
  requests: number;
}

async function run(extra: Partial<VerifyInputs> = {}): Promise<CoreRun> {
  const inputs: VerifyInputs = {
    transport: "run-command",
    manifest: "claws.yaml",
    claws: [],
    privateKey: "",
    username: "",
    timeoutSeconds: 1,
    parallelism: 4,
    reportOnly: false,
    command: RUN_COMMAND_VERIFY_COMMAND,
    ...extra,
  };
  const reporter = new MemoryReporter();
  const since = Date.now();
  const result: CoreRun = { reporter, requests: 0 };
  const connect = (resourceGroup: string) =>
    connectAzure({
      subscriptionId: azure.subscriptionId,
      tenantId: azure.tenantId,
      clientId: azure.clientId,
      armEndpoint: azure.armEndpoint,
      authorityHost: azure.authorityHost,
      resourceGroup,
      pollIntervalMs: 0,
    });
  try {
    result.results = await verifyAction(
      { inputs, workspace },
      { clients: { connectAzure: connect }, reporter },
    );
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    result.error = err;
  }
  result.requests = azure.requestLog.filter((e) => e.at >= since).length;
  return result;
}

describe("verifyAction's gates, in-process", () => {
  it("an unhealthy claw and a claw without a VM: annotated on their manifest lines, in the summary and outputs, then the run fails", async () => {
    writeManifest("  alice: {}\n  ghost: {}\n");
    const { reporter, error } = await run();
    expect(error?.message).toBe(
      "2 of 2 claw(s) unhealthy: alice, ghost. See the annotations and the job summary.",
    );
    expect(
      JSON.parse(reporter.outputs.results!).map((r: ClawVerification) => [r.name, r.healthy, r.reason]),
    ).toEqual([
      ["alice", false, "not-ready"],
      ["ghost", false, "not-ready"],
    ]);
    expect(reporter.outputs.healthy).toBe("[]");
    expect(reporter.outputs.unhealthy).toBe('["alice","ghost"]');
    const ghost = reporter.annotations.find((a) => a.props?.title === "Claw ghost is unhealthy");
    expect(ghost).toEqual({
      level: "error",
      text: `no VM for this claw in resource group ${RG}`,
      props: { file: "claws.yaml", startLine: 27, endLine: 27, title: "Claw ghost is unhealthy" },
    });
    expect(reporter.summaryText).toContain(`Claws from claws.yaml, resource group ${RG}.`);
    expect(reporter.log[0]).toMatch(
      /^Verifying 2 claw\(s\) from claws\.yaml, resource group rg-verify-core through Azure Run Command/,
    );
  });

  it("report-only: reports the unhealthy claw and does not fail", async () => {
    writeManifest("  alice: {}\n");
    const { reporter, error, results } = await run({ reportOnly: true });
    expect(error).toBeUndefined();
    expect(results?.map((r) => [r.name, r.healthy])).toEqual([["alice", false]]);
    expect(reporter.log).toContain(
      "1 of 1 claw(s) unhealthy: alice. report-only is set: the step does not fail.",
    );
  });

  it("a claws input naming a retired claw is refused before any Azure request", async () => {
    writeManifest("  alice: {}\n  bob: { retired: true }\n");
    const { error, requests } = await run({ claws: ["bob"] });
    expect(error?.message).toBe(
      "Input 'claws': bob is retired in claws.yaml: it has no VM to verify.\nFix: Leave it out of claws.",
    );
    expect(requests).toBe(0);
  });

  it("a manifest with problems is annotated through the reporter and refused before any Azure request", async () => {
    writeManifest("  Bad_Name: {}\n");
    const { reporter, error, requests } = await run();
    expect(error?.message).toMatch(
      /^claws\.yaml has 1 problem\(s\), annotated on their lines; the first, line 26: /,
    );
    expect(reporter.annotations.filter((a) => a.level === "error")[0]?.props).toMatchObject({
      file: "claws.yaml",
      startLine: 26,
      title: "claws.yaml",
    });
    expect(requests).toBe(0);
  });

  it("explicit targets: a claws input naming a claw not among them is refused, and no Azure connection is made", async () => {
    const connect = vi.fn();
    const reporter = new MemoryReporter();
    await expect(
      verifyAction(
        {
          inputs: {
            transport: "ssh",
            manifest: "claws.yaml",
            claws: ["zed"],
            privateKey: "unused",
            username: "",
            targets: [{ name: "alice", host: "127.0.0.1", port: 22, hostKeyFingerprint: "SHA256:x" }],
            timeoutSeconds: 1,
            parallelism: 1,
            reportOnly: false,
            command: "true",
          },
          workspace,
        },
        { clients: { connectAzure: connect }, reporter },
      ),
    ).rejects.toThrow("Input 'claws' names zed, not in the targets input.");
    expect(connect).not.toHaveBeenCalled();
  });
});
