/**
 * Binding a call's arguments to its method: the count, each argument against its spec (a type
 * name, a predicate or a Standard Schema), and the upload streams in the places `"stream"` marks.
 * A mismatch is SignalR's binding failure: the call fails before the method runs.
 *
 * @module
 */
import { ErrorCode } from "@hubwire/protocol";
import { ErrorTexts } from "./error-texts.js";
import type { CompiledMethod, StandardSchemaLike } from "./hub.js";
import type { UploadStream } from "./upload-stream.js";

/** The arguments do not fit the method (the name .NET's binder gives its exceptions). */
export class ArgumentBindingError extends Error {
  override readonly name = "InvalidDataException";
  readonly code = ErrorCode.ArgumentBindingFailed;
}

/**
 * The call's arguments, upload streams in their places; a promise only when a schema validates
 * asynchronously.
 *
 * @throws {ArgumentBindingError} for a count or a value that does not fit.
 * @example
 * ```ts
 * const bound = bindArguments(method, message.arguments, uploads);
 * const args = bound instanceof Promise ? await bound : bound;
 * ```
 */
export function bindArguments(method: CompiledMethod, given: readonly unknown[], uploads: readonly UploadStream[]): unknown[] | Promise<unknown[]> {
  // Upload streams are checked apart (after authorization, as .NET does): count plain arguments only.
  const expected = method.parameterCount - method.uploadCount;
  if (given.length !== expected) throw new ArgumentBindingError(ErrorTexts.argumentCountMismatch(given.length, expected));
  if (method.args === undefined) return given as unknown[];
  const args: unknown[] = [];
  let argument = 0;
  let stream = 0;
  let isAsync = false;
  for (const [index, spec] of method.args.entries()) {
    const value = spec === "stream" ? uploads[stream++] : checkArgument(spec, given[argument++], index);
    isAsync ||= isPromiseLike(value);
    args.push(value);
  }
  return isAsync ? Promise.all(args) : args;
}

const mismatch = () => new ArgumentBindingError(ErrorTexts.argumentTypesMismatch);

/** The checked value, or a promise of it when a Standard Schema validates asynchronously. */
function checkArgument(spec: NonNullable<CompiledMethod["args"]>[number], value: unknown, index: number): unknown {
  switch (spec) {
    case "any":
      return value;
    case "string":
    case "number":
    case "boolean":
      if (typeof value !== spec) throw mismatch();
      return value;
    case "object":
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw mismatch();
      return value;
    case "array":
      if (!Array.isArray(value)) throw mismatch();
      return value;
    case "stream":
      throw new ArgumentBindingError(`Parameter ${index} is a stream.`);
  }
  if (typeof spec === "function") {
    if (!spec(value)) throw mismatch();
    return value;
  }
  const checked = (outcome: StandardSchemaResult): unknown => {
    if (outcome.issues !== undefined && outcome.issues.length > 0) {
      throw new ArgumentBindingError(`Argument ${index} is invalid: ${outcome.issues.map((issue) => issue.message).join("; ")}`);
    }
    return outcome.value;
  };
  const outcome = spec["~standard"].validate(value);
  return isPromiseLike(outcome) ? Promise.resolve(outcome).then(checked) : checked(outcome);
}

type StandardSchemaResult = Awaited<ReturnType<StandardSchemaLike["~standard"]["validate"]>>;

/** Whether a value is a promise (or any thenable). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null | undefined)?.then === "function";
}
