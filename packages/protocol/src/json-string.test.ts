import { describe, expect, it } from "vitest";
import { jsonString } from "./json-string.js";

describe("jsonString", () => {
  // Every kind of character JSON.stringify treats apart, alone and inside longer text.
  const samples = [
    "",
    "hello",
    "x".repeat(4096),
    'say "hi"',
    "back\\slash",
    "line\nbreak\ttab\r\u0000\u0001\u001f",
    "\u007f del is not escaped",
    "\u2028\u2029 separators are not escaped either",
    "é, € and 😀 (a surrogate pair)",
    "lone \ud800 high",
    "lone \udfff low",
    "reversed \udc00\ud800 pair",
    `${"a".repeat(1000)}"${"b".repeat(1000)}`,
  ];

  it.each(samples)("writes %j as JSON.stringify does", (text) => {
    expect(jsonString(text)).toBe(JSON.stringify(text));
  });

  it("reads back as the same string", () => {
    for (const text of samples) expect(JSON.parse(jsonString(text))).toBe(text);
  });
});
