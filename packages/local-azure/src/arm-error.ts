// ARM's error contract: every failure is `{ "error": { "code", "message", "target"?, "details"? } }`
// with an HTTP status chosen by the resource provider.
// https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/common-api-details.md#error-response-content

export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorBody[];
}

/** An error the stand-in answers with, the way the real resource provider would. */
export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    target?: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ArmError";
    this.status = status;
    this.code = code;
    this.target = target;
    this.headers = headers;
  }

  body(): { error: ArmErrorBody } {
    const error: ArmErrorBody = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    return { error };
  }
}

/** `ResourceNotFound`, ARM's answer for a missing top-level or nested resource (404). */
export function resourceNotFound(typeAndName: string, resourceGroup: string): ArmError {
  // Message format as ARM sends it (seen in e.g. Azure/azure-cli#25148).
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

/** `ResourceGroupNotFound` (404): any request under a resource group that does not exist. */
export function resourceGroupNotFound(resourceGroup: string): ArmError {
  return new ArmError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
}

/** `InvalidParameter` (400), the Compute RP's answer to a bad request body. */
export function invalidParameter(message: string, target?: string): ArmError {
  return new ArmError(400, "InvalidParameter", message, target);
}

/** `InvalidRequestContent` (400): the body is not JSON ARM can read. */
export function invalidRequestContent(message: string): ArmError {
  return new ArmError(400, "InvalidRequestContent", message);
}
