// The logging surface the server needs: pino's (JSON lines, child loggers carrying the
// request id), as an interface so the handler runs where pino does not.

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

/** Observations the handler reports; the Prometheus module turns them into metrics. */
export interface Observer {
  request(model: string, status: number, seconds: number): void;
  call(model: string, queueSeconds: number, computeSeconds: number, batch: number): void;
}
