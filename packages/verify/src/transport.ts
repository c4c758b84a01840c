// How verification reaches a claw. Both the verify action and deploy-fleet's wave gate take the
// same `transport` input with the same default, from here.
//
// - run-command (default): Azure's managed Run Command through ARM. No inbound port; works from
//   GitHub-hosted runners; needs Microsoft.Compute/virtualMachines/runCommands/* on the role,
//   which is code execution as root on every claw.
// - ssh: SSH with the host key pinned at creation. Needs a runner that can reach port 22 (a
//   self-hosted runner in the VNet, a tailnet, or ssh.allowed_cidrs) and the admin private key.
export const VERIFY_TRANSPORTS = ["run-command", "ssh"] as const;
export type VerifyTransport = (typeof VERIFY_TRANSPORTS)[number];
export const DEFAULT_VERIFY_TRANSPORT: VerifyTransport = "run-command";
