// The wave gate: proves a wave's claws healthy over SSH with the verify library, against the
// endpoints and pinned host keys read through ARM.
import { UserError } from "@openclawps/action-kit";
import type { AzureContext } from "@openclawps/azure";
import type { ResolvedFleet } from "@openclawps/fleet-model";
import type { WaveVerifier } from "@openclawps/rollout";

export interface WaveVerifierOptions {
  ctx: AzureContext;
  fleet: ResolvedFleet;
  privateKey: string;
  timeoutSeconds: number;
}

export function buildWaveVerifier(_options: WaveVerifierOptions): WaveVerifier {
  // The verify library is not part of this build yet: refuse rather than call a claw healthy
  // without checking it.
  throw new UserError(
    "Wave verification is not available in this build of deploy-fleet.",
    "Set `verify: false` (claws are then reported unverified) and run the verify action after apply.",
  );
}
