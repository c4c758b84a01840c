// The role-assignment conditions the local Azure evaluates, and its refusal of shapes it cannot.
import { describe, expect, it } from "vitest";
import { assignmentAllowed, parseAssignmentCondition } from "../src/abac.ts";

const KVSU = "4633458b-17de-408a-b874-0445c86b69e6";
const body = (role: string, principalType?: string) => ({
  properties: {
    roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${role}`,
    principalId: "p",
    ...(principalType ? { principalType } : {}),
  },
});

describe("role assignment conditions", () => {
  it("constrains roles and principal types as the delegation examples write them", () => {
    const c = parseAssignmentCondition(`(
      (!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'}))
      OR
      (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${KVSU.toUpperCase()}, a795c7a0-d4a2-40c1-ae25-d81f01202912}
       AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'})
    )`);
    expect(c).toEqual({
      roleDefinitionIds: [KVSU, "a795c7a0-d4a2-40c1-ae25-d81f01202912"],
      principalTypes: ["serviceprincipal"],
    });
    expect(assignmentAllowed(c, body(KVSU, "ServicePrincipal"))).toBe(true);
    expect(assignmentAllowed(c, body("b24988ac-6180-42a0-ab88-20f7382dd24c", "ServicePrincipal"))).toBe(
      false,
    );
    expect(assignmentAllowed(c, body(KVSU, "User"))).toBe(false);
    expect(assignmentAllowed(c, body(KVSU))).toBe(false);
  });

  it("refuses a condition it cannot evaluate rather than admitting everything", () => {
    expect(() =>
      parseAssignmentCondition(
        "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:ContainerName] StringEqualsIgnoreCase 'x'",
      ),
    ).toThrow(/evaluates only/);
    expect(() =>
      parseAssignmentCondition(
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {1}))",
      ),
    ).toThrow(/cannot evaluate this condition clause/);
  });
});
