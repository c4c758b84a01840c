// Reads that tolerate absence: paged lists (the SDK follows `nextLink`) and single GETs.
import { isNotFound } from "./azure-error.ts";

/**
 * Every item of a paged list. With `missingOk`, a list under a parent that does not exist yet
 * (resource group, gallery, image definition: ResourceGroupNotFound / ResourceNotFound) is empty:
 * that is what a fleet looks like before its first apply.
 */
export async function listAll<T>(pages: AsyncIterable<T>, opts: { missingOk?: boolean } = {}): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const item of pages) out.push(item);
  } catch (err) {
    if (opts.missingOk && isNotFound(err)) return [];
    throw err;
  }
  return out;
}

/** The resource, or undefined when ARM says it does not exist. */
export async function getIfExists<T>(get: Promise<T>): Promise<T | undefined> {
  try {
    return await get;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
