/** Bytes to base64 in slices: `String.fromCharCode(...bytes)` overflows the stack on large files. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const SLICE = 0x8000;
  for (let i = 0; i < bytes.length; i += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of `bytes`, or `null` for binary content (a NUL byte, or bytes that are not UTF-8).
 * `cutAtEnd`: the bytes are the start of a longer file, so a character split at the end is not an error.
 */
export function decodeText(bytes: Uint8Array, cutAtEnd: boolean): string | null {
  if (bytes.includes(0)) return null;
  const end = cutAtEnd ? completeLength(bytes) : bytes.length;
  try {
    return strictUtf8.decode(bytes.subarray(0, end));
  } catch {
    return null;
  }
}

/** Length of `bytes` without a UTF-8 character cut off at the end. */
function completeLength(bytes: Uint8Array): number {
  let lead = bytes.length - 1;
  // Continuation bytes are 10xxxxxx; a character has at most three of them.
  while (lead > 0 && bytes.length - lead < 4 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead -= 1;
  const first = bytes[lead] ?? 0;
  const needed = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return lead + needed > bytes.length ? lead : bytes.length;
}
