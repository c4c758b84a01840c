// Offline validation of workflow and action metadata files with GitHub's own parser
// (@actions/workflow-parser: the schema and parser behind the Actions language service).
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parseAction } from "@actions/workflow-parser/actions/action-parser";

function messages(errors: { getErrors(): { message: string }[] }): string[] {
  return errors.getErrors().map((e) => e.message);
}

/** Schema and expression errors of a workflow file ("file (Line: n, Col: m): message"). */
export async function lintWorkflow(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  return messages(parsed.context.errors);
}

/** Errors of an action metadata file against the action.yml schema. */
export function lintAction(name: string, content: string): string[] {
  return messages(parseAction({ name, content }, new NoOperationTraceWriter()).context.errors);
}
