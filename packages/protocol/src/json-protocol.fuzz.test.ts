import { arbitraryJsonValue, protocolProperties } from "@hubwire/test-support";
import fc from "fast-check";
import { JsonHubProtocol } from "./json-protocol.js";

protocolProperties("JsonHubProtocol", new JsonHubProtocol({ maxMessageBytes: 4096 }), arbitraryJsonValue, [fc.string({ unit: "binary" })]);
