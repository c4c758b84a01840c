// Optional RBAC: when a list of allowed actions is configured, ARM requests whose action is not
// covered are refused with 403 AuthorizationFailed, worded as ARM words it.
// https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---authorization-failed
import { ArmError } from "./arm-error.ts";

/** Role-definition style matching: `*` matches any run of characters, case-insensitively. */
export function actionAllowed(allowed: string[], action: string): boolean {
  const a = action.toLowerCase();
  return allowed.some((pattern) => {
    const re = new RegExp(`^${pattern.toLowerCase().split("*").map(escapeRegExp).join(".*")}$`);
    return re.test(a);
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

export function authorizationFailed(
  clientId: string,
  objectId: string,
  action: string,
  scope: string,
): ArmError {
  return new ArmError(
    403,
    "AuthorizationFailed",
    `The client '${clientId}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}
