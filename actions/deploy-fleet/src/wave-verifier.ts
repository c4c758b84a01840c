// The wave gate: proves a wave's claws healthy with the same library the verify action uses,
// through the chosen transport: Azure Run Command (default; no inbound port, the ARM channel is
// authenticated) or SSH against the public IPs and pinned host keys read through ARM.
import { type AzureContext, getClawEndpoints, runCommandChannel } from "@openclawps/azure";
import { DEFAULT_ADMIN_USERNAME, type ResolvedFleet } from "@openclawps/fleet-model";
import type { RolloutLog, WaveVerifier } from "@openclawps/rollout";
import {
  type RunCommandTarget,
  type VerifyProgress,
  type VerifyTarget,
  type VerifyTransport,
  verifyClaws,
  verifyClawsByRunCommand,
  waveVerifier,
} from "@openclawps/verify";

export interface WaveVerifierOptions {
  ctx: AzureContext;
  fleet: ResolvedFleet;
  transport: VerifyTransport;
  /** The admin's OpenSSH private key (a secret: verifyClaws never logs it); only for ssh. */
  privateKey: string;
  /** How long each claw may take to become ready (boot finished and reachable). */
  timeoutSeconds: number;
  log: RolloutLog;
  /** The app registration, to name it in permission errors. */
  clientId?: string;
}

export function buildWaveVerifier(o: WaveVerifierOptions): WaveVerifier {
  const onProgress = (e: VerifyProgress) => {
    if (e.phase !== "done") o.log.info(`  ${e.claw}: verify — ${e.message}`);
  };
  // A wave is verified at once (up to verify's default, the manifest's most claws changed at
  // once), not `parallelism` at a time: verifying reads, it changes nothing.
  if (o.transport === "run-command") {
    const channel = runCommandChannel(o.ctx, o.clientId ? { clientId: o.clientId } : {});
    return waveVerifier<RunCommandTarget>(
      async (claws) => (await getClawEndpoints(o.ctx, claws)).map((e) => ({ name: e.name, vm: e.vmId })),
      (targets) =>
        verifyClawsByRunCommand(targets, channel, {
          timeoutSeconds: o.timeoutSeconds,
          onProgress,
        }),
    );
  }
  const usernames = new Map(o.fleet.claws.map((c) => [c.name, c.settings.admin_username]));
  return waveVerifier<VerifyTarget>(
    async (claws) =>
      (await getClawEndpoints(o.ctx, claws)).map((e) => ({
        name: e.name,
        // No public IP: verifyClaws reports the claw unhealthy ("no address"), never skips it.
        host: e.host ?? "",
        port: e.port,
        ...(e.hostKeyFingerprint ? { hostKeyFingerprint: e.hostKeyFingerprint } : {}),
        ...(usernames.get(e.name) ? { username: usernames.get(e.name) } : {}),
      })),
    (targets) =>
      verifyClaws(targets, {
        username: DEFAULT_ADMIN_USERNAME,
        privateKey: o.privateKey,
        timeoutSeconds: o.timeoutSeconds,
        onProgress,
      }),
  );
}
