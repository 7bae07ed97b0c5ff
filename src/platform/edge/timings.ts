// Where the isolate's time goes, for the cold-start breakdown (GET /edge/timings): each phase
// the edge platform can see (loading the data files, restoring an interpreter, each host
// request to Python and each engine request Python makes, ort-web's instantiation, session
// creation and runs), in order. workerd's clocks advance while JavaScript and wasm run here
// (measured with a busy loop), so these are real durations on this machine.

export interface PhaseTiming {
  phase: string;
  /** Milliseconds since the isolate's first request started. */
  startMs: number;
  ms: number;
}

const KEEP = 200; // the first phases are the cold start; later ones repeat
const phases: PhaseTiming[] = [];
let origin: number | undefined;

/** Starts the clock (the isolate's first request). */
export function timingOrigin(): void {
  origin ??= performance.now();
}

export function recordPhase(phase: string, started: number): void {
  if (origin === undefined || phases.length >= KEEP) return;
  phases.push({ phase, startMs: started - origin, ms: performance.now() - started });
}

export function phaseTimings(): PhaseTiming[] {
  return phases.slice();
}
