import { describe, expect, it } from "vitest";
import { ErrorCode, hasErrorCode } from "./error-codes.js";
import { ProtocolError } from "./protocol-error.js";
import * as WireErrorCode from "./wire-error-codes.js";

describe("the table of error codes", () => {
  it("gives every error its own code, the protocol's among them", () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^HUBWIRE_[A-Z0-9_]+$/);
    expect(ErrorCode).toMatchObject(WireErrorCode);
    expect(ErrorCode.BackplaneUnavailable).toBe("HUBWIRE_BACKPLANE_UNAVAILABLE");
  });

  it("matches an error by its code, from any copy of a package", () => {
    const fromHere = new ProtocolError(ErrorCode.ForbiddenKey, "no");
    const fromAnotherCopy = Object.assign(new Error("down"), { name: "BackplaneError", code: "HUBWIRE_BACKPLANE_UNAVAILABLE" });
    expect(hasErrorCode(fromHere, ErrorCode.ForbiddenKey)).toBe(true);
    expect(hasErrorCode(fromHere, ErrorCode.MessageTooLarge)).toBe(false);
    expect(hasErrorCode(fromAnotherCopy, ErrorCode.BackplaneUnavailable)).toBe(true);
    expect(hasErrorCode(undefined, ErrorCode.Timeout)).toBe(false);
    expect(hasErrorCode("HUBWIRE_TIMEOUT", ErrorCode.Timeout)).toBe(false);
  });
});
