export { MessagePackHubProtocol, type MessagePackHubProtocolOptions } from "./msgpack-protocol.js";
export {
  BinaryRecordReader,
  MAX_LENGTH_PREFIX_BYTES,
  lengthPrefixSize,
  writeBinaryRecord,
  writeLengthPrefix,
} from "./binary-framing.js";
export { checkMessagePackBounds } from "./msgpack-bounds.js";
export { HubMessageEncoder } from "./string-encoder.js";
