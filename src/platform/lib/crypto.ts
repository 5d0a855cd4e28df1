import { base64url, fromBase64url } from "./ids";

const encoder = new TextEncoder();

/** Hex SHA-256 of a string. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two strings (length leaks, content does not). */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  if (left.length !== right.length) return false;
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= left[i]! ^ right[i]!;
  return diff === 0;
}

const PBKDF2_ITERATIONS = 100_000;

/** PBKDF2-SHA256 password hash as `pbkdf2$<iterations>$<salt>$<hash>` (base64url parts). */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, iterations);
  return `pbkdf2$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

/** Checks a password against a {@link hashPassword} string. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split("$");
  if (scheme !== "pbkdf2" || !iterationsText || !saltText || !hashText) return false;
  const hash = await pbkdf2(password, fromBase64url(saltText), Number(iterationsText));
  return timingSafeEqual(base64url(hash), hashText);
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

async function aesKey(secretBase64: string): Promise<CryptoKey> {
  const raw = Uint8Array.from(atob(secretBase64), (c) => c.charCodeAt(0));
  if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be base64 of 32 bytes");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** AES-256-GCM encryption under the Worker secret; output is `<iv>.<ciphertext>` base64url. */
export async function encryptSecret(plaintext: string, secretBase64: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await aesKey(secretBase64),
    encoder.encode(plaintext),
  );
  return `${base64url(iv)}.${base64url(new Uint8Array(cipher))}`;
}

/** Inverse of {@link encryptSecret}. */
export async function decryptSecret(sealed: string, secretBase64: string): Promise<string> {
  const [ivText, cipherText] = sealed.split(".");
  if (!ivText || !cipherText) throw new Error("malformed sealed secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64url(ivText) },
    await aesKey(secretBase64),
    fromBase64url(cipherText),
  );
  return new TextDecoder().decode(plain);
}
