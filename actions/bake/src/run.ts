// bake, the action itself (main.ts prints the first line, then imports this).
import { coreReporter, runAction, UserError } from "@openclawps/action-kit";
import { azureImageGallery } from "./azure-gallery.ts";
import { bake, PackerBuildFailure } from "./bake.ts";
import { readBakeInputs } from "./inputs.ts";
import { reportFailure, reportOutcome } from "./report.ts";

/** The first thing Packer complained about, on one line. */
function firstProblem(failure: PackerBuildFailure): string {
  const f = failure.findings[0];
  if (!f) return "see the log";
  const where = f.line === undefined ? "" : `${f.file}:${f.line}: `;
  return `${where}${f.message}`.split("\n")[0] ?? "";
}

// Thin edge: inputs → bake → outputs, summary, annotations through action-kit's core-backed
// Reporter (whose info neutralises workflow commands in Packer's output).

await runAction(async () => {
  const { request, azure, fleet } = readBakeInputs(import.meta.url);
  const gallery = azureImageGallery(
    {
      subscriptionId: azure.subscriptionId,
      tenantId: azure.tenantId,
      clientId: azure.clientId,
      ...(azure.armEndpoint ? { armEndpoint: azure.armEndpoint } : {}),
      ...(azure.authorityHost ? { authorityHost: azure.authorityHost } : {}),
    },
    {
      resourceGroup: request.gallery.resourceGroup,
      gallery: request.gallery.name,
      imageDefinition: request.gallery.imageDefinition,
    },
    fleet,
  );
  try {
    await reportOutcome(await bake(request, { gallery, log: coreReporter }), gallery.label, coreReporter);
  } catch (err) {
    if (!(err instanceof PackerBuildFailure)) throw err;
    await reportFailure(err, gallery.label, coreReporter);
    throw new UserError(
      `Packer failed to bake image version ${err.imageVersion}: ${firstProblem(err)}`,
      "Packer's full error is in the annotations and the job summary; fix the template or install script it names and run the bake again.",
    );
  }
});
