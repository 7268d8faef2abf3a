/**
 * The URL `new Worker` takes for a worker module given by its path under src/ (e.g.
 * "server/auth/password-strength-worker.ts"). From source that is the file itself. In the compiled
 * binary a worker is an entry point of its own (package.json's build lists each), which Bun keeps in
 * its virtual file system under the same path relative to the entry points' common root, src/:
 * a URL relative to the caller would point beside the bundled chunk that holds the caller instead.
 */
export function workerUrl(pathUnderSrc: string): string {
  if (Bun.main.startsWith("/$bunfs/")) return `/$bunfs/root/${pathUnderSrc}`;
  return new URL(`../${pathUnderSrc}`, import.meta.url).href;
}
