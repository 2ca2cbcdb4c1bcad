import { arbitraryJsonValue, protocolProperties } from "@hubwire/test-support";
import fc from "fast-check";
import { MessagePackHubProtocol } from "./msgpack-protocol.js";

const value = fc.oneof(arbitraryJsonValue, fc.uint8Array({ maxLength: 16 }), fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 3 }));
protocolProperties("MessagePackHubProtocol", new MessagePackHubProtocol({ maxMessageBytes: 4096 }), value);
