// What an action writes to stdout (workflow commands, log lines), captured for a test.
import { vi } from "vitest";

function startCapture(): () => string {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  return () => {
    spy.mockRestore();
    return chunks.join("");
  };
}

export function captureStdout(fn: () => void): string {
  const stop = startCapture();
  try {
    fn();
  } catch (err) {
    stop();
    throw err;
  }
  return stop();
}

export async function captureStdoutAsync(fn: () => Promise<void>): Promise<string> {
  const stop = startCapture();
  try {
    await fn();
  } catch (err) {
    stop();
    throw err;
  }
  return stop();
}
