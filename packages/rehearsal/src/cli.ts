// `npm run rehearse`: the operator's journey through the reusable workflows, offline, one line
// per step with the jobs that ran and their outcome. REHEARSAL_VERIFY=1 verifies claws over SSH
// (needs guests that boot); REHEARSAL_KEEP=1 keeps the fleet repository and run logs.
import { RehearsalError } from "./expressions.ts";
import { Journey } from "./journey.ts";
import { Rehearsal } from "./rehearsal.ts";

const verify = process.env.REHEARSAL_VERIFY === "1";
const rehearsal = await Rehearsal.start({ guests: verify });
if (verify && rehearsal.azure.guestsUnavailableReason) {
  console.log(`✗ REHEARSAL_VERIFY=1 needs booting guests: ${rehearsal.azure.guestsUnavailableReason}`);
  await rehearsal.stop();
  process.exit(1);
}
let failed = 0;
try {
  const journey = new Journey(
    rehearsal,
    { verify },
    Rehearsal.exampleFile("examples/fleet/claws.yaml"),
    Rehearsal.exampleFile("examples/fleet/.github/workflows/fleet.yml"),
    Rehearsal.exampleFile("examples/fleet/.github/workflows/power.yml"),
  );
  console.log(`rehearsal of ${journey.clawNames().join(", ")} (verification ${verify ? "on" : "off"})`);
  await journey.all((step) => {
    console.log(`${step.problems.length ? "✗" : "✓"} ${step.line}`);
    for (const p of step.problems) console.log(`    ${p}`);
    if (step.problems.length) failed++;
  });
} catch (err) {
  // A workflow the rehearsal cannot run (an unknown action, key or input): its file and line.
  if (!(err instanceof RehearsalError)) throw err;
  console.log(`✗ ${err.message}`);
  failed++;
} finally {
  if (process.env.REHEARSAL_KEEP === "1") console.log(`kept: ${rehearsal.scratch}`);
  else await rehearsal.stop();
}
if (failed) {
  console.log(`${failed} step(s) did not go as the walkthrough says`);
  process.exitCode = 1;
}
