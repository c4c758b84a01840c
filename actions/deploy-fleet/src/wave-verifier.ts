// The wave gate: proves a wave's claws healthy over SSH with the same library the verify action
// uses, against the public IPs and pinned host keys read through ARM (an authenticated channel).
import { type AzureContext, getClawEndpoints } from "@openclawps/azure";
import { DEFAULT_ADMIN_USERNAME, type ResolvedFleet } from "@openclawps/fleet-model";
import type { RolloutLog, WaveVerifier } from "@openclawps/rollout";
import { type VerifyTarget, verifyClaws, waveVerifier } from "@openclawps/verify";

export interface WaveVerifierOptions {
  ctx: AzureContext;
  fleet: ResolvedFleet;
  /** The admin's OpenSSH private key (a secret: verifyClaws never logs it). */
  privateKey: string;
  /** How long each claw may take to become ready (SSH up with the pinned key, boot finished). */
  timeoutSeconds: number;
  log: RolloutLog;
}

export function buildWaveVerifier(o: WaveVerifierOptions): WaveVerifier {
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
        parallelism: o.fleet.rollout.parallelism,
        onProgress: (e) => {
          if (e.phase !== "done") o.log.info(`  ${e.claw}: verify — ${e.message}`);
        },
      }),
  );
}
