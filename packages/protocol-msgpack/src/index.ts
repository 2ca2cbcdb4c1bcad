export {
  BinaryRecordReader,
  lengthPrefixSize,
  MAX_LENGTH_PREFIX_BYTES,
  writeBinaryRecord,
  writeLengthPrefix,
} from "./binary-framing.js";
export { checkMessagePackBounds } from "./msgpack-bounds.js";
export { MessagePackHubProtocol, type MessagePackHubProtocolOptions } from "./msgpack-protocol.js";
export { HubMessageEncoder } from "./string-encoder.js";
