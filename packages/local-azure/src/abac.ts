// Conditions on a role assignment (Azure ABAC, condition version 2.0), as far as they constrain
// role assignment management: the caller's assignment carries a condition, and a
// roleAssignments/write it makes is allowed only when the condition holds for the request.
// https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-portal
// https://learn.microsoft.com/azure/role-based-access-control/conditions-authorization-actions-attributes
//
// Only the shape those pages document for "constrain roles" and "constrain principal types" is
// understood:
//   ( (!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'}))
//     OR ( <clause> [AND <clause>]... ) )
// with clauses
//   @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {guid, ...}
//   @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'Type', ...}
// Anything else is refused when the condition is set: the local Azure does not pretend to
// evaluate what it cannot.

export const ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write";

export interface AssignmentCondition {
  /** Role definition GUIDs (lower case) a role assignment may grant; undefined = any. */
  roleDefinitionIds?: string[];
  /** Principal types (lower case) a role assignment may name; undefined = any. */
  principalTypes?: string[];
}

const ATTRIBUTE =
  /^@Request\[Microsoft\.Authorization\/roleAssignments:(\w+)\]\s+ForAnyOfAnyValues:(\w+)\s*\{([^}]*)\}$/i;

function stripParens(s: string): string {
  let t = s.trim();
  while (t.startsWith("(") && t.endsWith(")") && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim();
  return t;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

/** Splits at a top-level (unparenthesised) operator. */
function splitTop(s: string, op: "AND" | "OR"): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const re = new RegExp(`\\s${op}\\s`, "giy");
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(" || c === "{") depth++;
    else if (c === ")" || c === "}") depth--;
    else if (depth === 0) {
      re.lastIndex = i;
      const m = re.exec(s);
      if (m) {
        parts.push(s.slice(start, i));
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

/** Parses a condition of the documented shape, or throws naming what is not understood. */
export function parseAssignmentCondition(condition: string): AssignmentCondition {
  const text = stripParens(condition.replace(/\s+/g, " "));
  const [exempt, constraint, ...rest] = splitTop(text, "OR");
  const action = /^!\s*\(\s*ActionMatches\s*\{\s*'([^']+)'\s*\}\s*\)$/i.exec(stripParens(exempt ?? ""));
  if (
    rest.length > 0 ||
    constraint === undefined ||
    action?.[1]?.toLowerCase() !== ROLE_ASSIGNMENT_WRITE.toLowerCase()
  )
    throw new Error(
      `the local Azure evaluates only "(!(ActionMatches{'${ROLE_ASSIGNMENT_WRITE}'})) OR (...)" conditions: ${condition}`,
    );
  const out: AssignmentCondition = {};
  for (const clause of splitTop(stripParens(constraint), "AND")) {
    const m = ATTRIBUTE.exec(stripParens(clause));
    const values = (m?.[3] ?? "")
      .split(",")
      .map((v) =>
        v
          .trim()
          .replace(/^'(.*)'$/, "$1")
          .toLowerCase(),
      )
      .filter(Boolean);
    const attribute = m?.[1]?.toLowerCase();
    const operator = m?.[2]?.toLowerCase();
    if (attribute === "roledefinitionid" && operator === "guidequals") out.roleDefinitionIds = values;
    else if (attribute === "principaltype" && operator === "stringequalsignorecase")
      out.principalTypes = values;
    else throw new Error(`the local Azure cannot evaluate this condition clause: ${clause}`);
  }
  return out;
}

/** Whether a role assignment PUT body satisfies the condition (its role and principal type). */
export function assignmentAllowed(condition: AssignmentCondition, body: unknown): boolean {
  const p = (body as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const role = String(p.roleDefinitionId ?? "")
    .split("/")
    .pop()
    ?.toLowerCase();
  // ARM fills a missing principalType in as it resolves the principal; a condition on it sees
  // the request's value (the delegate page advises sending it).
  const type = String(p.principalType ?? "").toLowerCase();
  if (condition.roleDefinitionIds && !condition.roleDefinitionIds.includes(role ?? "")) return false;
  if (condition.principalTypes && !condition.principalTypes.includes(type)) return false;
  return true;
}
