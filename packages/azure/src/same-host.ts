// Links in ARM's answers (a list's nextLink, a long-running operation's status URL) are followed
// only on the host that gave them.
import { RestError } from "@azure/core-rest-pipeline";

/**
 * `url` (a list's nextLink, a long-running operation's status URL) when it is on the host that
 * sent it; otherwise a RestError and no request. The pipeline's bearer-token policy gives the
 * ARM token to any https URL it is asked to fetch, so a link elsewhere (a broken or hostile
 * answer) is not followed. ARM's own links stay on its endpoint
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations).
 */
export function onHostThatAnswered(url: string, answeredUrl: string, what: string): string {
  const here = new URL(answeredUrl).origin;
  let there: string;
  try {
    there = new URL(url, answeredUrl).origin;
  } catch {
    there = "an invalid URL";
  }
  if (there !== here) {
    throw new RestError(
      `Azure answered with a ${what} on ${there}, not on ${here}, which answered: not followed (it would carry the ARM token there)`,
      { code: "ForeignLink" },
    );
  }
  return url;
}
