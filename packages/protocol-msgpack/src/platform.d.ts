// The globals this package uses, which every browser and Node (>= 11) provide. Declared here
// instead of pulling in the DOM or Node type libraries, so that any other platform API is a
// build error (see tsconfig.build.json). Not emitted: no public type refers to these.

declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
