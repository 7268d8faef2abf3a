import type { ComponentChildren } from "preact";
import { ThemeToggle } from "../layout/ThemeToggle.tsx";

/** The centered card shared by the sign-in and setup pages. */
export function AuthCard({
  title,
  subtitle,
  children,
}: {
  title: string;
  subtitle: string;
  children: ComponentChildren;
}) {
  return (
    <main class="auth-page">
      <div class="auth-theme">
        <ThemeToggle />
      </div>
      <section class="auth-card" aria-labelledby="auth-title">
        <div class="auth-brand" aria-hidden="true">
          <span class="brand-mark">◆</span> Oqto
        </div>
        <h1 id="auth-title">{title}</h1>
        <p class="muted">{subtitle}</p>
        {children}
      </section>
    </main>
  );
}
