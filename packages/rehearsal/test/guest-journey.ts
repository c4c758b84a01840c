// A journey of the example fleet on booting guests, with verification on: the rehearsal started
// in guest mode, the journey built from the example's files, the rehearsal stopped afterwards.
import { Journey } from "../src/journey.ts";
import { Rehearsal } from "../src/rehearsal.ts";

/** The example's workflows a journey may run besides fleet.yml. */
type ExtraWorkflow = "power.yml" | "verify.yml";

/** Runs `steps` on a guest-mode journey whose repository holds fleet.yml and the `extra` workflows. */
export async function guestJourney(
  extra: ExtraWorkflow[],
  steps: (journey: Journey, rehearsal: Rehearsal) => Promise<void>,
): Promise<void> {
  const rehearsal = await Rehearsal.start({ guests: true });
  const workflow = (name: ExtraWorkflow) =>
    extra.includes(name) ? Rehearsal.exampleFile(`examples/fleet/.github/workflows/${name}`) : "";
  try {
    const journey = new Journey(
      rehearsal,
      { verify: true },
      Rehearsal.exampleFile("examples/fleet/claws.yaml"),
      Rehearsal.exampleFile("examples/fleet/.github/workflows/fleet.yml"),
      workflow("power.yml"),
      workflow("verify.yml"),
    );
    await steps(journey, rehearsal);
  } finally {
    await rehearsal.stop();
  }
}
