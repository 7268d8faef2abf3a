import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The encodings the UI is served in, besides identity; the first one a browser accepts wins. */
export const UI_ENCODINGS = ["br", "gzip"] as const;
export type UiEncoding = (typeof UI_ENCODINGS)[number];

/**
 * How hard to compress. `bun run build` spends the time once (brotli 11, gzip 9: about 1.5 s of CPU
 * for the whole UI); a server run from source compresses at every start, so it takes the quick
 * settings (a few tens of ms, some 10 % larger).
 */
export type CompressionEffort = "build" | "quick";

const SETTINGS: Record<CompressionEffort, { brotli: number; gzip: number }> = {
  build: { brotli: 11, gzip: 9 },
  quick: { brotli: 5, gzip: 6 },
};

/** Types worth compressing: text. Images and fonts are compressed already. */
export function isCompressible(contentType: string): boolean {
  return /^text\/|javascript|json|svg|xml/.test(contentType);
}

/**
 * The body in each encoding, on zlib's thread pool (not the event loop). An encoding that does not
 * make the body smaller is left out: identity is served instead.
 */
export async function compressBody(
  body: Uint8Array,
  effort: CompressionEffort,
): Promise<Partial<Record<UiEncoding, Uint8Array<ArrayBuffer>>>> {
  const settings = SETTINGS[effort];
  const [br, gz] = await Promise.all([
    brotliAsync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: settings.brotli,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
    gzipAsync(body, { level: settings.gzip }),
  ]);
  const result: Partial<Record<UiEncoding, Uint8Array<ArrayBuffer>>> = {};
  if (br.length < body.length) result.br = new Uint8Array(br);
  if (gz.length < body.length) result.gzip = new Uint8Array(gz);
  return result;
}
