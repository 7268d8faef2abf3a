/**
 * The tab's icon with a coloured dot in its corner, and back. index.html's icon is an SVG data URL
 * (viewBox 16×16): the dot is drawn into a copy of it; any other icon gives way to the dot alone.
 */

const SVG_DATA_URL = "data:image/svg+xml,";

let original: string | null = null;

function iconLink(): HTMLLinkElement | null {
  return document.querySelector<HTMLLinkElement>('link[rel~="icon"]');
}

function dot(colour: string): string {
  return `<circle cx='12' cy='4' r='3.6' fill='${colour}' stroke='white' stroke-width='1.2'/>`;
}

function withDot(icon: string, colour: string): string {
  const svg = icon.startsWith(SVG_DATA_URL) ? decodeURIComponent(icon.slice(SVG_DATA_URL.length)) : "";
  const marked = /<\/svg>\s*$/.test(svg)
    ? svg.replace(/<\/svg>\s*$/, `${dot(colour)}</svg>`)
    : `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>${dot(colour)}</svg>`;
  return SVG_DATA_URL + encodeURIComponent(marked);
}

/** `colour` is one of the app's own constants, never text from elsewhere. */
export function showFaviconDot(colour: string): void {
  const link = iconLink();
  if (!link) return;
  original ??= link.getAttribute("href") ?? "";
  link.setAttribute("href", withDot(original, colour));
}

export function clearFaviconDot(): void {
  const link = iconLink();
  if (link && original !== null) link.setAttribute("href", original);
  original = null;
}
