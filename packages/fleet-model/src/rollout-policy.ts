// Rollout fields that come from outside the manifest (a workflow's inputs overriding the
// `rollout:` block) are held to the manifest's own rules: the same schema, the same words.
import { rolloutSchema } from "./manifest-schema.ts";
import type { RolloutPolicy } from "./types.ts";

export interface RolloutFieldProblem {
  field: keyof RolloutPolicy;
  message: string;
  fix?: string;
}

/** What the manifest's `rollout:` rules refuse in `fields` (absent fields are not checked). */
export function rolloutPolicyProblems(fields: Partial<RolloutPolicy>): RolloutFieldProblem[] {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const parsed = rolloutSchema.partial().safeParse(defined);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    // A count-or-percent field is a union: report the branch of the value's own type.
    const inner =
      issue.code === "invalid_union"
        ? (issue.errors.find((b) => b.some((i) => i.code !== "invalid_type")) ?? issue.errors[0])?.[0]
        : issue;
    const fix = (inner as { params?: { fix?: string } } | undefined)?.params?.fix;
    return {
      field: String(issue.path[0]) as keyof RolloutPolicy,
      message: inner?.message ?? issue.message,
      ...(fix ? { fix } : {}),
    };
  });
}
