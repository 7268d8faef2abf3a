import { signal } from "@preact/signals";

export interface ChatAlert {
  readonly id: string;
  readonly level: "error" | "warning" | "info";
  readonly text: string;
}

/** A conversation's alerts (agent errors, notifications, retries), shown until dismissed. */
export class ChatAlerts {
  readonly alerts = signal<readonly ChatAlert[]>([]);
  private counter = 0;

  add(level: ChatAlert["level"], text: string): void {
    this.counter += 1;
    this.set(`a${this.counter}`, level, text);
  }

  /** Adds or replaces the alert with this id (one retry or compaction notice at a time). */
  set(id: string, level: ChatAlert["level"], text: string): void {
    this.alerts.value = [...this.alerts.value.filter((a) => a.id !== id), { id, level, text }];
  }

  dismiss(id: string): void {
    this.alerts.value = this.alerts.value.filter((a) => a.id !== id);
  }
}
