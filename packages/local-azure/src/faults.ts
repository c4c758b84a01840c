// Fault injection: make the Nth matching request fail, make its long-running operation fail at
// the end, or make it hang — to test how callers cope with what Azure does on a bad day.

export type FaultMode = "fail" | "lro-fail" | "hang" | "lro-hang";

export interface FaultSpec {
  /** Operation name as logged, e.g. `virtualMachines.delete`, `disks.createOrUpdate`, `entra.token`. */
  operation?: string;
  /** HTTP method to match (with or without `path`). */
  method?: string;
  /** Regular expression (or its source) tested against the request path. */
  path?: RegExp | string;
  /** Which matching request to hit, 1-based (default 1: the next one). */
  nth?: number;
  /** How many consecutive matching requests to hit from the nth on (default 1). */
  times?: number;
  /** HTTP status for mode "fail" (default 500). */
  status?: number;
  /** Error code (default `InternalServerError` for "fail", `InternalExecutionError` for "lro-fail"). */
  code?: string;
  message?: string;
  /**
   * - `fail`: answer immediately with `{error:{code,message}}` and `status`; nothing changes.
   * - `lro-fail`: accept the request; its operation ends with status Failed.
   * - `hang`: never answer (until the server stops).
   * - `lro-hang`: accept the request; its operation never finishes.
   */
  mode?: FaultMode;
}

interface ArmedFault {
  spec: FaultSpec;
  path: RegExp | undefined;
  seen: number;
  hits: number;
}

export interface FaultHit {
  mode: FaultMode;
  status: number;
  code: string;
  message: string;
}

export class Faults {
  private armed: ArmedFault[] = [];

  add(spec: FaultSpec): void {
    if (!spec.operation && !spec.method && !spec.path) {
      throw new Error("injectFault needs an operation, a method or a path to match");
    }
    const path =
      spec.path === undefined
        ? undefined
        : typeof spec.path === "string"
          ? new RegExp(spec.path, "i")
          : spec.path;
    this.armed.push({ spec, path, seen: 0, hits: 0 });
  }

  clear(): void {
    this.armed = [];
  }

  /** Counts the request against every armed fault and returns the first one that fires. */
  match(operation: string, method: string, path: string): FaultHit | undefined {
    let hit: FaultHit | undefined;
    for (const f of this.armed) {
      const { spec } = f;
      if (spec.operation && spec.operation.toLowerCase() !== operation.toLowerCase()) continue;
      if (spec.method && spec.method.toUpperCase() !== method.toUpperCase()) continue;
      if (f.path && !f.path.test(path)) continue;
      f.seen++;
      const nth = spec.nth ?? 1;
      const times = spec.times ?? 1;
      if (hit === undefined && f.seen >= nth && f.hits < times) {
        f.hits++;
        const mode = spec.mode ?? "fail";
        hit = {
          mode,
          status: spec.status ?? 500,
          code: spec.code ?? (mode === "lro-fail" ? "InternalExecutionError" : "InternalServerError"),
          message:
            spec.message ??
            (mode === "lro-fail"
              ? "An internal execution error occurred. Please retry later."
              : "Encountered internal server error. Please try again."),
        };
      }
    }
    this.armed = this.armed.filter((f) => f.hits < (f.spec.times ?? 1));
    return hit;
  }
}
