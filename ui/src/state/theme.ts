import { computed, effect, signal } from "@preact/signals";

export type ThemePreference = "system" | "light" | "dark";

const STORAGE_KEY = "oqto.theme";
const ORDER: readonly ThemePreference[] = ["system", "light", "dark"];

function storedPreference(): ThemePreference {
  const value = localStorage.getItem(STORAGE_KEY);
  return value === "light" || value === "dark" ? value : "system";
}

export const themePreference = signal<ThemePreference>(storedPreference());

const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");
const systemDark = signal(darkQuery.matches);
darkQuery.addEventListener("change", (event) => {
  systemDark.value = event.matches;
});

/** The theme on screen, for the few things CSS cannot color (the terminal). */
export const effectiveTheme = computed<"light" | "dark">(() => {
  const preference = themePreference.value;
  if (preference !== "system") return preference;
  return systemDark.value ? "dark" : "light";
});

/** Applies the preference to <html data-theme>; "system" leaves it to prefers-color-scheme in CSS. */
export function installTheme(): void {
  effect(() => {
    const preference = themePreference.value;
    if (preference === "system") {
      delete document.documentElement.dataset.theme;
      localStorage.removeItem(STORAGE_KEY);
    } else {
      document.documentElement.dataset.theme = preference;
      localStorage.setItem(STORAGE_KEY, preference);
    }
  });
}

export function cycleTheme(): void {
  const next = ORDER[(ORDER.indexOf(themePreference.value) + 1) % ORDER.length];
  themePreference.value = next ?? "system";
}
