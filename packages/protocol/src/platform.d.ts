// The globals this package uses, which every browser and Node (>= 11) provide. Declared here
// instead of pulling in the DOM or Node type libraries, so that any other platform API is a
// build error (see tsconfig.build.json). Not emitted: no public type refers to these.

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}

/** Base64 of a string of bytes (one character per byte); for binary values written as JSON. */
declare function btoa(data: string): string;
