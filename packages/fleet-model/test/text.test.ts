import { describe, expect, it } from "vitest";
import { formatDuration } from "../src/duration-text.ts";
import { markdownCell } from "../src/markdown-cell.ts";

describe("formatDuration", () => {
  it("writes seconds with a tenth under a minute, then minutes and seconds, then hours and minutes", () => {
    expect(formatDuration(0)).toBe("0.0s");
    expect(formatDuration(420)).toBe("0.4s");
    expect(formatDuration(12_340)).toBe("12.3s");
    expect(formatDuration(59_960)).toBe("1m00s");
    expect(formatDuration(83_000)).toBe("1m23s");
    expect(formatDuration(3_599_000)).toBe("59m59s");
    expect(formatDuration(3_600_000)).toBe("1h00m");
    expect(formatDuration(7_380_000)).toBe("2h03m");
  });
});

describe("markdownCell", () => {
  it("keeps a value inside its cell: pipes, backslashes, line breaks and HTML", () => {
    expect(markdownCell("a|b")).toBe("a\\|b");
    expect(markdownCell("a\\|b")).toBe("a\\\\\\|b");
    expect(markdownCell("one\r\ntwo\nthree")).toBe("one<br>two<br>three");
    expect(markdownCell("<img src=x onerror=alert(1)>")).toBe("&lt;img src=x onerror=alert(1)&gt;");
  });
});
