import { describe, expect, it } from "vitest";
import { queryParameter } from "./http-request.js";

describe("queryParameter", () => {
  const queries = [
    "",
    "id=abc",
    "id=abc&_=1712",
    "_=1712&id=abc",
    "id=",
    "id",
    "id&id=second",
    "ids=no&id=yes",
    "xid=no&id=yes",
    "id=first&id=second",
    "&&id=x&",
    "id=a=b",
    "=x&id=y",
    "id=a%20b",
    "id=a+b",
    "i%64=escaped-key",
    "id=%E2%9C%93",
    "id=%zz",
    "?id=leading-question-mark",
    "id=caf\u00e9",
    "ID=upper",
    "negotiateVersion=1&useStatefulReconnect=true",
  ];

  it.each(queries)("reads %j as URLSearchParams does", (search) => {
    for (const name of ["id", "_", "ID", "negotiateVersion", "useStatefulReconnect", "missing"]) {
      expect(queryParameter(search, name)).toBe(new URLSearchParams(search).get(name));
    }
  });
});
