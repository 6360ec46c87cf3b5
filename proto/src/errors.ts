/**
 * The contract's .proto files could not be found or do not match the generated types.
 * Never retryable: the same files give the same result until someone fixes the deployment.
 */
export class ContractLoadError extends Error {
  readonly retryable = false;

  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
  }
}
