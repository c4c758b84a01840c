// The journey's first push with verification on, on booting guests (local Azure's guest mode):
// from an empty subscription, bake publishes the image, plan, apply with every claw proven
// healthy over SSH (host keys pinned) by verify.sh, then the workflow's verify job, then drift.
// Needs root, loop devices and packer; CI runs it as root (skipped elsewhere with the reason).
// The rest of the journey on guests: REHEARSAL_VERIFY=1 npm run rehearse (a quarter of an hour).
import { describe, expect, it } from "vitest";
import { guestJourney } from "./guest-journey.ts";
import { guestJourneyUnavailable } from "./packer.ts";

const reason = guestJourneyUnavailable("the journey");

describe.skipIf(reason !== undefined)("the first push on booting guests", () => {
  it("creates every claw and proves it healthy, in apply's wave and in its final check", async () => {
    await guestJourney([], async (journey) => {
      const step = await journey.firstPush();
      expect(step.problems, step.line).toEqual([]);
      const push = step.runs[0]!;
      // With the default transport (Run Command) the final check is apply's last step, as the
      // operator identity; the SSH verify job does not run.
      const apply = push.job("deploy/deploy/apply").summary;
      for (const claw of journey.clawNames()) {
        expect(apply).toMatch(new RegExp(`${claw} \\|[^\\n]*✅ healthy`));
      }
      expect(apply).toMatch(/4 of 4 claw\(s\) healthy/);
      // The default transport: Run Command, from a GitHub-hosted runner label, with no SSH key used.
      expect(push.job("deploy/deploy/apply").log).toMatch(
        /verify — \/opt\/claw\/verify\.sh --json --compact through Run Command/,
      );
      expect(push.job("deploy/deploy/apply").log).toContain("through Azure Run Command");
      expect(push.job("deploy/deploy/apply").runsOn).toBe("ubuntu-latest");
      expect(push.job("deploy/deploy/verify").result).toBe("skipped");
    });
  }, 1_200_000);
});
