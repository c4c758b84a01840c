// What a value staged into a claw's .env may hold. boot.sh rebuilds openclaw/.env from
// /etc/claw/*.env with each value verbatim to the end of its line, and OpenClaw reads that file
// with dotenv, where an unquoted value ends at "#" and a leading quote starts a quoted value
// (vm-runtime/README.md, "Environment contract"). One rule for the manifest's settings (checked
// where they are written) and for cloud-init's staging (which refuses anything else).

/** Printable ASCII without space, quotes, backtick, backslash or "#". */
export const ENV_SAFE_VALUE = /^[!$-&(-[\]-_a-~]*$/;

/** What is wrong with `value` as an .env value, or undefined when the .env can carry it. */
export function envValueProblem(value: string): string | undefined {
  if (ENV_SAFE_VALUE.test(value)) return undefined;
  return `contains a character the claw's .env cannot carry (whitespace, a quote, a backtick, a backslash, "#" or a non-ASCII character)`;
}
