/**
 * The upstream URL for `rest` below a provider's base, or undefined when normalisation would leave the
 * base (`..`, an encoded slash): a request reaches the configured endpoint and nothing else.
 */
export function upstreamUrl(base: URL, rest: string, search: string): URL | undefined {
  const basePath = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  if (
    rest.split("/").some((segment) => segment === ".." || segment === "." || /%2e|%2f|%5c/i.test(segment))
  ) {
    return undefined;
  }
  let target: URL;
  try {
    target = new URL(`${base.origin}${basePath}${rest}${search}`);
  } catch {
    return undefined;
  }
  if (target.origin !== base.origin || !target.pathname.startsWith(basePath)) return undefined;
  return target;
}
