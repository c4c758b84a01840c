// Text from claws, Azure and users goes into Markdown tables (job summaries, PR comments): one
// escaper for every cell, so no value can end its cell, open a new row or inject HTML.

/** `text` as the content of one Markdown table cell. */
export function markdownCell(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, "<br>");
}
