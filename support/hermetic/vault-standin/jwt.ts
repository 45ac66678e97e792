/**
 * RS256 JSON Web Tokens with node:crypto only: the per-run issuers' keys (the Kubernetes service-account issuer, the
 * Gitea CI OIDC issuer), signing (what those issuers do) and signature verification (what Vault does with the issuer's
 * configured public keys, `pem_keys` / `jwt_validation_pubkeys`). Claims are checked in claims.ts.
 *
 * Errors never quote the token: a JWT is a bearer credential.
 */
import { createPublicKey, generateKeyPair, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export type JwtClaims = Readonly<Record<string, unknown>>;

export interface JwtHeader {
  readonly alg?: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly [name: string]: unknown;
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key: what Vault is configured with. */
  readonly publicKeyPem: string;
}

/** A public key as Vault is given it: a KeyObject or a PEM (SPKI public key or X.509 certificate). */
export type PublicKeyInput = KeyObject | string;

export interface VerifiedJwt {
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
}

/** The token is not a compact JWS with a JSON object header and payload. */
export class JwtFormatError extends Error {
  override readonly name = 'JwtFormatError';
}

/** No configured key validates the signature (or the algorithm is not one we verify). */
export class JwtSignatureError extends Error {
  override readonly name = 'JwtSignatureError';
  constructor() {
    super('no known key successfully validated the token signature');
  }
}

const HASHES: Readonly<Record<string, string>> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

const generateKeyPairOnPool = promisify(generateKeyPair);

/** A fresh RSA 2048 key pair for one issuer of this run, made on libuv's thread pool: its prime search takes 50–190 ms here. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPairOnPool('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** A compact JWS: `header.payload.signature`, RS256 unless `header.alg` says RS384/RS512. */
export function signJwt(privateKey: KeyObject, claims: JwtClaims, header: JwtHeader = {}): string {
  const fullHeader = { alg: 'RS256', typ: 'JWT', ...header };
  const hash = HASHES[fullHeader.alg];
  if (hash === undefined) throw new TypeError(`signJwt: unsupported alg ${JSON.stringify(fullHeader.alg)}; use RS256, RS384 or RS512`);
  const input = `${encode(fullHeader)}.${encode(claims)}`;
  return `${input}.${sign(hash, Buffer.from(input, 'ascii'), privateKey).toString('base64url')}`;
}

export function toPublicKey(input: PublicKeyInput): KeyObject {
  if (typeof input !== 'string') return input.type === 'private' ? createPublicKey(input) : input;
  return createPublicKey(input);
}

function decodePart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new JwtFormatError(`the ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtFormatError(`the ${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new JwtFormatError(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Splits and decodes without verifying anything. */
export function decodeJwt(token: string): VerifiedJwt & { readonly signingInput: string; readonly signature: Buffer } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtFormatError('compact JWS format must have three parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodePart(headerPart, 'header') as JwtHeader;
  const claims = decodePart(payloadPart, 'payload');
  if (!/^[A-Za-z0-9_-]*$/.test(signaturePart)) throw new JwtFormatError('the signature is not base64url');
  return { header, claims, signingInput: `${headerPart}.${payloadPart}`, signature: Buffer.from(signaturePart, 'base64url') };
}

/**
 * The verifier Vault applies with statically configured keys: the token verifies under at least one key, or it is
 * refused with `no known key successfully validated the token signature`.
 */
export function verifyJwtSignature(token: string, keys: readonly PublicKeyInput[]): VerifiedJwt {
  const decoded = decodeJwt(token);
  const hash = typeof decoded.header.alg === 'string' ? HASHES[decoded.header.alg] : undefined;
  if (hash === undefined || decoded.signature.length === 0) throw new JwtSignatureError();
  const input = Buffer.from(decoded.signingInput, 'ascii');
  for (const key of keys) {
    if (verify(hash, input, toPublicKey(key), decoded.signature)) return { header: decoded.header, claims: decoded.claims };
  }
  throw new JwtSignatureError();
}
