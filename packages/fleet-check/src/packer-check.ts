import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Finding } from "@openclawps/action-kit";
import { REFUSED_ENTRY_FIX_SENTENCE, walkShippedTree } from "@openclawps/cloud-init";
import { findOnPath, runTool } from "./external-tool.ts";

export interface PackerResult {
  /** False when packer is not installed: the template was not checked. */
  ran: boolean;
  version?: string;
  /** What was run, for the summary: "packer validate", "packer validate (without plugins.pkr.hcl)", ... */
  mode?: string;
  findings: Finding[];
}

/**
 * The template keeps its `packer { required_plugins { ... } }` block in this file alone. Packer
 * before 1.7 does not know `required_plugins` (it bundled its builders instead), so for those
 * versions the template is checked without this file.
 * https://developer.hashicorp.com/packer/docs/templates/hcl_templates/blocks/packer
 */
export const PLUGINS_FILE = "plugins.pkr.hcl";

const TITLE = "packer validate";

export function parsePackerVersion(text: string): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * Runs `packer validate` on a template directory and maps its diagnostics to findings at
 * their files and lines. `display` is how the directory is shown (relative to the repository).
 */
/** Directories of a Packer directory that are never its input (bake's content hash skips them too). */
export const PACKER_SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([".git", "packer_cache"]);

export async function checkPacker(options: {
  dir: string;
  display: string;
  variables?: Record<string, string>;
  path?: string;
  /** The run is for a pull request: `packer init` installs only allow-listed plugin sources. */
  pullRequest?: boolean;
  /** Plugin sources `packer init` may install on a pull request (default ALLOWED_PLUGIN_SOURCES). */
  allowedPlugins?: readonly string[];
}): Promise<PackerResult> {
  const { dir, display } = options;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return {
      ran: false,
      findings: [
        {
          file: display,
          severity: "error",
          title: TITLE,
          message: `Packer directory '${display}' does not exist.`,
          fix: "Set the packer-dir input to the directory holding the *.pkr.hcl files, relative to the repository root, or leave it empty.",
        },
      ],
    };
  }
  // Packer would follow a link to whatever it points at on the runner: refuse before it runs
  // (the same walk and rule as the vm-runtime payload and bake's content hash).
  const refused = walkShippedTree(dir, PACKER_SKIPPED_DIRECTORIES).refused;
  if (refused.length > 0) {
    return {
      ran: false,
      findings: refused.map((r) => ({
        file: `${display}/${r.rel}`,
        severity: "error",
        title: TITLE,
        message: `${r.rel} ${r.message}, and nothing in the Packer directory may be one.`,
        fix: REFUSED_ENTRY_FIX_SENTENCE,
      })),
    };
  }
  const packer = findOnPath("packer", options.path ?? process.env.PATH);
  if (!packer) return { ran: false, findings: [] };
  // CHECKPOINT_DISABLE: no update check against HashiCorp's servers on every run.
  const env = { CHECKPOINT_DISABLE: "1", PACKER_NO_COLOR: "1" };
  const versionText = (await runTool(packer, ["version"], { cwd: dir, env })).stdout;
  const version = parsePackerVersion(versionText);
  const versionLabel = version?.join(".") ?? "(unknown version)";
  const legacy = version !== undefined && (version[0] < 1 || (version[0] === 1 && version[1] < 7));
  const needsPlugins = usesRequiredPlugins(dir);

  // A template that requires plugins can only be checked against them. Packer before 1.7
  // cannot install plugins and its built-in builders predate the options such a template
  // uses, so it gets a syntax check, without plugins.pkr.hcl (whose required_plugins block
  // it cannot parse). The copy sits beside the original so relative paths in the template
  // (`../scripts/x.sh`, which packer resolves against its working directory) still resolve.
  let workDir = dir;
  let syntaxOnly = false;
  let mode = "packer validate";
  if (legacy && needsPlugins) {
    syntaxOnly = true;
    mode = `packer validate -syntax-only (Packer before 1.7 cannot install the template's plugins; ${PLUGINS_FILE} left out)`;
    if (existsSync(join(dir, PLUGINS_FILE))) {
      workDir = mkdtempSync(join(dirname(dir), `.${basename(dir)}-validate-`));
      cpSync(dir, workDir, { recursive: true, filter: (src) => src !== join(dir, PLUGINS_FILE) });
    }
  }
  try {
    const findings: Finding[] = [];
    const notAllowed = options.pullRequest
      ? pluginSources(dir).filter(
          (source) => !(options.allowedPlugins ?? ALLOWED_PLUGIN_SOURCES).includes(source),
        )
      : [];
    if (!legacy && needsPlugins && notAllowed.length > 0) {
      // A pull request chooses what `packer init` downloads and runs on the runner: only
      // allow-listed plugin sources are installed for one.
      syntaxOnly = true;
      mode = "packer validate -syntax-only (plugins not installed for a pull request)";
      findings.push({
        file: `${display}/${PLUGINS_FILE}`,
        severity: "warning",
        title: "packer init",
        message: `packer init was not run: on a pull request only plugins from ${(options.allowedPlugins ?? ALLOWED_PLUGIN_SOURCES).join(", ")} are installed, and the template requires ${notAllowed.join(", ")}. Only its syntax was checked.`,
        fix: "Use the allow-listed plugin, or validate the template on a push to the deploy branch.",
      });
    } else if (!legacy && needsPlugins) {
      const init = await runTool(packer, ["init", "."], { cwd: workDir, env });
      if (init.code !== 0) {
        syntaxOnly = true;
        mode = "packer validate -syntax-only (packer init failed)";
        findings.push({
          file: `${display}/${PLUGINS_FILE}`,
          severity: "warning",
          title: "packer init",
          message: `packer init could not install the template's plugins, so only its syntax was checked: ${clean(init.stdout + init.stderr).trim()}`,
          fix: "Check the required_plugins sources and versions, and that the runner can reach github.com.",
        });
      }
    }
    const validate = (variables: string[]) =>
      runTool(
        packer,
        [
          "validate",
          ...(syntaxOnly ? ["-syntax-only"] : []),
          ...variables.flatMap((v) => ["-var", `${v}=${PLACEHOLDER}`]),
          ".",
        ],
        { cwd: workDir, env },
      );
    let result = await validate([]);
    // Variables without defaults are set by whoever builds (the bake action passes them from
    // the manifest); stand-in values let the rest of the template be checked.
    const unset = [...clean(result.stdout).matchAll(/^Error: Unset variable "([^"]+)"/gm)].map(
      (m) => m[1] as string,
    );
    if (unset.length > 0) {
      result = await validate(unset);
      mode += ` with stand-in values for ${unset.length} variable${unset.length === 1 ? "" : "s"} without a default`;
    }
    if (result.code !== 0) {
      const output = clean(`${result.stdout}\n${result.stderr}`);
      const parsed = parsePackerOutput(output, display);
      findings.push(
        ...(parsed.length > 0
          ? parsed
          : [
              {
                file: display,
                severity: "error" as const,
                title: TITLE,
                message: `packer validate failed (exit ${result.code}): ${output.trim()}`,
              },
            ]),
      );
    }
    return { ran: true, version: versionLabel, mode, findings };
  } finally {
    if (workDir !== dir) rmSync(workDir, { recursive: true, force: true });
  }
}

/** What a variable without a default is set to for validation. */
export const PLACEHOLDER = "validate-placeholder";

/** Plugins `packer init` installs on a pull request: the shipped template's. */
export const ALLOWED_PLUGIN_SOURCES: readonly string[] = ["github.com/hashicorp/azure"];

/** The `source` of every plugin the templates' required_plugins blocks name. */
function pluginSources(dir: string): string[] {
  const sources = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".pkr.hcl"))) {
    const text = readFileSync(join(dir, f), "utf8");
    if (!/\brequired_plugins\b/.test(text)) continue;
    for (const m of text.matchAll(/\bsource\s*=\s*"([^"]*)"/g)) sources.add((m[1] as string).toLowerCase());
  }
  return [...sources].sort();
}

function usesRequiredPlugins(dir: string): boolean {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".pkr.hcl"))
    .some((f) => /\brequired_plugins\b/.test(readFileSync(join(dir, f), "utf8")));
}

/** Packer (1.7+) colours its diagnostics on a terminal; the codes would end up in annotations. */
function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point.
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/**
 * Parses packer's HCL diagnostics:
 *
 *     Error: Unsupported argument
 *
 *       on build.pkr.hcl line 19, in source "azure-arm" "claw":
 *       19:   bogus = 1
 *
 *     An argument named "bogus" is not expected here.
 *
 * into one finding per diagnostic, at `<display>/<file>` and the line.
 */
export function parsePackerOutput(output: string, display: string): Finding[] {
  const findings: Finding[] = [];
  const blocks = output.split(/^(?=(?:Error|Warning): )/m).filter((b) => /^(?:Error|Warning): /.test(b));
  for (const block of blocks) {
    const lines = block.replace(/\r/g, "").split("\n");
    const head = /^(Error|Warning): (.*)$/.exec(lines[0] ?? "");
    if (!head) continue;
    const severity = head[1] === "Error" ? "error" : "warning";
    const summary = (head[2] ?? "").trim();
    let file: string | undefined;
    let line: number | undefined;
    const detail: string[] = [];
    for (const text of lines.slice(1)) {
      const at = /^\s+on (.+?) line (\d+)(?:, in .*)?:$/.exec(text);
      if (at && file === undefined) {
        file = at[1];
        line = Number(at[2]);
        continue;
      }
      // Source excerpt lines ("  19:   bogus = 1") and packer's note that it has none.
      if (/^\s+\d+: /.test(text) || /^\s+\(source code not available\)$/.test(text)) continue;
      if (text.trim() !== "") detail.push(text.trim());
    }
    // The summary goes into the title; the message is packer's explanation.
    const message = detail.length > 0 ? detail.join(" ") : summary;
    const finding: Finding = {
      file: file ? `${display}/${file.replace(/^\.\//, "")}` : display,
      severity,
      title: `${TITLE}: ${summary}`,
      message,
    };
    if (line !== undefined) finding.line = line;
    const fix = fixFor(message);
    if (fix) finding.fix = fix;
    findings.push(finding);
  }
  return findings;
}

function fixFor(message: string): string | undefined {
  if (message.includes('"required_plugins"')) {
    return `Keep the packer { required_plugins { ... } } block alone in ${PLUGINS_FILE}, so Packer before 1.7 can validate the rest.`;
  }
  return undefined;
}
