// Text from claws, Azure and users goes into Markdown tables (job summaries, PR comments): one
// escaper for every cell, so no value can end its cell, open a new row or inject HTML.

/** A character one of the replacements below changes (a lone CR is left as it is). */
const NEEDS_ESCAPE = /[\\|<>\n]/;

/** `text` as the content of one Markdown table cell. */
export function markdownCell(text: string): string {
  // Most cells (claw names, versions, reasons) hold none of these: nothing to replace.
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, "<br>");
}
