/**
 * JWT bearer tokens with jose: HS256 with a shared secret, a fixed issuer and audience. The demo's
 * /token route issues them; `principalFromToken` is what the hub server's `authenticate` calls.
 */
import type { Principal } from "@hubwire/server";
import { errors, jwtVerify, SignJWT } from "jose";

const issuer = "hubwire-example-express-jwt";
const audience = "hubwire-example-express-jwt";

/** The roles a token can carry; `admin` may call `announce`. */
export type Role = "admin" | "user";

/** The HMAC key for a secret; refuses one too short for HS256 (RFC 7518 asks for 256 bits). */
export function signingKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < 32) throw new RangeError("JWT_SECRET must be at least 32 bytes for HS256: `openssl rand -base64 32` makes one.");
  return key;
}

/** A signed token for `user`, valid for `ttlSeconds` (default an hour). */
export function issueToken(key: Uint8Array, user: string, role: Role, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/**
 * The principal of a valid token: its `sub` as the user id, its claims, and its `exp` as the
 * moment Hubwire ends the connection (the client then reconnects with a fresh token). A token that
 * is forged, expired, for another audience or without `sub`/`exp` gives none: the request is then
 * anonymous, which the hub refuses with 401.
 */
export async function principalFromToken(key: Uint8Array, token: string): Promise<Principal | undefined> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], issuer, audience, requiredClaims: ["sub", "exp"] });
    return { userId: payload.sub!, claims: payload, expiresAtMs: payload.exp! * 1000 };
  } catch (error) {
    // A bad token is an everyday event, not a server fault: no principal, no log line.
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
}
