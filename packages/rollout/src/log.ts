// Where the rollout writes its progress. The action maps it to workflow commands (log groups,
// warnings); tests and the demo capture it.

export interface RolloutLog {
  /** Opens a collapsible section (one per wave). */
  group(title: string): void;
  endGroup(): void;
  info(message: string): void;
  warning(message: string): void;
}

/** Collects every line, for tests. */
export class MemoryLog implements RolloutLog {
  readonly lines: string[] = [];
  group(title: string): void {
    this.lines.push(`[group] ${title}`);
  }
  endGroup(): void {
    this.lines.push("[endgroup]");
  }
  info(message: string): void {
    this.lines.push(message);
  }
  warning(message: string): void {
    this.lines.push(`[warning] ${message}`);
  }
}
