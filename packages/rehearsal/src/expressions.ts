// Expressions and template tokens, evaluated by GitHub's own evaluator (@actions/expressions)
// over the tokens GitHub's own parser (@actions/workflow-parser) produced. Only the contexts and
// functions our workflows use are known; anything else fails with its file and line.
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import type { FunctionDefinition } from "@actions/expressions/funcs/info";
import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from "@actions/workflow-parser";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { TokenType } from "@actions/workflow-parser/templates/tokens/types";

/** A plain value as the workflow sees it after evaluation. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** Where a token comes from, for messages: "deploy.yml:42". */
export class RehearsalError extends Error {}

export function at(file: string, token: TemplateToken | undefined): string {
  return token?.line ? `${file}:${token.line}` : file;
}

/** The job or step status functions: what success(), failure(), always(), cancelled() answer. */
export interface Status {
  success: boolean;
  failure: boolean;
}

export interface Scope {
  /** Context name → value (github, inputs, secrets, needs, steps, jobs, env, ...). */
  contexts: Record<string, Value>;
  /** Present where the status functions are allowed (job and step `if`). */
  status?: Status;
}

function toData(value: Value): data.ExpressionData {
  return JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData;
}

function fromData(d: data.ExpressionData): Value {
  switch (d.kind) {
    case data.Kind.String:
      return (d as data.StringData).value;
    case data.Kind.Number:
      return (d as data.NumberData).value;
    case data.Kind.Boolean:
      return (d as data.BooleanData).value;
    case data.Kind.Null:
      return null;
    case data.Kind.Array:
      return (d as data.Array).values().map(fromData);
    case data.Kind.Dictionary: {
      const out: Record<string, Value> = {};
      for (const pair of (d as data.Dictionary).pairs()) out[pair.key] = fromData(pair.value);
      return out;
    }
    default:
      throw new RehearsalError(`unsupported expression value ${JSON.stringify(d)}`);
  }
}

function statusFunctions(status: Status): FunctionDefinition[] {
  const fn = (name: string, value: () => boolean): FunctionDefinition => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value()),
  });
  return [
    fn("success", () => status.success),
    fn("failure", () => status.failure),
    fn("always", () => true),
    // A rehearsal run is never cancelled from outside; a killed step is a failure.
    fn("cancelled", () => false),
  ];
}

/** Evaluates one expression (without `${{ }}`). */
export function evaluateExpression(expression: string, scope: Scope, where: string): Value {
  const functions = scope.status ? statusFunctions(scope.status) : [];
  try {
    const lexed = new Lexer(expression).lex();
    const parsed = new Parser(lexed.tokens, Object.keys(scope.contexts), functions).parse();
    const context = new data.Dictionary(
      ...Object.entries(scope.contexts).map(([key, value]) => ({ key, value: toData(value) })),
    );
    const result = new Evaluator(parsed, context, new Map(functions.map((f) => [f.name.toLowerCase(), f])));
    return fromData(result.evaluate());
  } catch (err) {
    if (err instanceof RehearsalError) throw err;
    throw new RehearsalError(`${where}: \${{ ${expression} }}: ${(err as Error).message}`);
  }
}

/** Evaluates a template token (a literal, an expression, or a mapping/sequence of them). */
export function evaluateToken(token: TemplateToken, scope: Scope, file: string): Value {
  return tokenValue(token, file, (expression, t) => evaluateExpression(expression, scope, at(file, t)));
}

/**
 * A template token as a plain value, each expression in it replaced by what `expression` makes of
 * it: its value (evaluateToken), or its `${{ }}` text for a test that reads a workflow as written.
 */
export function tokenValue(
  token: TemplateToken,
  file: string,
  expression: (expression: string, token: TemplateToken) => Value,
): Value {
  if (isBasicExpression(token)) return expression(token.expression, token);
  if (isString(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isNumber(token)) return token.value;
  if (token.templateTokenType === TokenType.Null) return null;
  if (isSequence(token)) {
    const out: Value[] = [];
    for (let i = 0; i < token.count; i++) out.push(tokenValue(token.get(i), file, expression));
    return out;
  }
  if (isMapping(token)) {
    const out: Record<string, Value> = {};
    for (const pair of token) out[keyOf(pair.key, file)] = tokenValue(pair.value, file, expression);
    return out;
  }
  throw new RehearsalError(`${at(file, token)}: ${token.typeName()} is not supported by the rehearsal`);
}

export function keyOf(token: TemplateToken, file: string): string {
  if (!isString(token))
    throw new RehearsalError(`${at(file, token)}: an expression as a key is not supported`);
  return token.value;
}

/** How the runner turns a value into an input or environment string (true → "true", null → ""). */
export function asString(value: Value): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Truthiness of an `if:` result, as the runner decides it. */
export function truthy(value: Value): boolean {
  if (value === null || value === false || value === 0 || value === "") return false;
  return !(typeof value === "number" && Number.isNaN(value));
}
