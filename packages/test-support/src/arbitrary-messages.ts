/**
 * fast-check generators of valid hub messages, given a generator of payload values (JSON values
 * for the JSON protocol; MessagePack adds binary). Used by both protocols' fuzz tests.
 */
import fc from "fast-check";

const id = fc.string({ minLength: 1, maxLength: 8 });
const headerKey = fc.string({ maxLength: 8 }).filter((key) => key !== "__proto__");
const headers = fc.option(fc.dictionary(headerKey, fc.string({ maxLength: 8 }), { maxKeys: 3 }), { nil: undefined });
const streamIds = fc.option(fc.array(id, { minLength: 1, maxLength: 3 }), { nil: undefined });

/** Drops undefined fields, which the wire leaves out. */
function compact<T extends object>(message: T): T {
  return Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined)) as T;
}

export function arbitraryHubMessage(value: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const args = fc.array(value, { maxLength: 4 });
  const sequenceId = fc.nat();
  return fc
    .oneof(
      fc.record({ type: fc.constant(1), headers, invocationId: fc.option(id, { nil: undefined }), target: id, arguments: args, streamIds }),
      fc.record({ type: fc.constant(2), headers, invocationId: id, item: value }),
      fc.record({ type: fc.constant(3), headers, invocationId: id, result: value.filter((v) => v !== undefined) }),
      fc.record({ type: fc.constant(3), headers, invocationId: id }),
      fc.record({ type: fc.constant(3), headers, invocationId: id, error: fc.string() }),
      fc.record({ type: fc.constant(4), headers, invocationId: id, target: id, arguments: args, streamIds }),
      fc.record({ type: fc.constant(5), headers, invocationId: id }),
      fc.record({ type: fc.constant(6) }),
      fc.record({
        type: fc.constant(7),
        error: fc.option(fc.string(), { nil: undefined }),
        allowReconnect: fc.option(fc.boolean(), { nil: undefined }),
      }),
      fc.record({ type: fc.constant(8), sequenceId }),
      fc.record({ type: fc.constant(9), sequenceId }),
    )
    .map(compact);
}

/** JSON values as they survive a trip through JSON text (no -0, no __proto__ keys). */
export const arbitraryJsonValue: fc.Arbitrary<unknown> = fc
  .jsonValue({ maxDepth: 3 })
  .filter((value) => !JSON.stringify(value).includes("__proto__"))
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);
