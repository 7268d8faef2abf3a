import { cycleTheme, type ThemePreference, themePreference } from "../../state/theme.ts";
import { MonitorIcon, MoonIcon, SunIcon } from "../common/icons.tsx";

const NEXT: Record<ThemePreference, string> = { system: "light", light: "dark", dark: "system" };

export function ThemeToggle() {
  const preference = themePreference.value;
  const Icon = preference === "light" ? SunIcon : preference === "dark" ? MoonIcon : MonitorIcon;
  return (
    <button
      type="button"
      class="icon-button"
      onClick={cycleTheme}
      data-testid="theme-toggle"
      data-theme-preference={preference}
      aria-label={`Theme: ${preference}. Switch to ${NEXT[preference]}`}
      title={`Theme: ${preference}`}
    >
      <Icon />
    </button>
  );
}
