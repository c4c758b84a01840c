// Prints how many ARM requests (and how long) observing a fleet takes as it grows, against the
// local Azure with Azure's page size. Run: npx tsx bench/observe.ts [sizes...]
import { startLocalAzure } from "@openclawps/local-azure";
import { connectAzure } from "../src/connect.ts";
import { observeFleet } from "../src/observe.ts";

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const azure = await startLocalAzure({ pageSize: 100 });
try {
  console.log("claws\tlist requests\tms");
  for (const n of sizes.length ? sizes : [10, 100, 1000]) {
    const rg = `rg-bench-${n}`;
    const gallery = "benchGallery";
    const image = "claw";
    await azure.seedGalleryVersions(rg, gallery, image, ["1.0.0"], "westus");
    const imageId = `/subscriptions/${azure.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/${gallery}/images/${image}/versions/1.0.0`;
    await azure.seedVirtualMachines(
      rg,
      Array.from({ length: n }, (_, i) => `claw-${i}`),
      { imageId },
    );
    const ctx = connectAzure(azure.connection(rg));
    await ctx.resources.resourceGroups.get(rg); // token outside the measurement
    const since = Date.now();
    const t0 = performance.now();
    await observeFleet(ctx, {
      azure: { gallery_name: gallery, fleet_image_definition_name: image } as Parameters<
        typeof observeFleet
      >[1]["azure"],
    });
    const ms = Math.round(performance.now() - t0);
    console.log(`${n}\t${azure.counts({ since, excludePolling: true }).reads}\t${ms}`);
  }
} finally {
  await azure.stop();
}
