import type { ComponentChildren } from "preact";
import { FormError } from "./Field.tsx";

interface ListPageProps<T> {
  /** Id of the heading, which names the page landmark. */
  titleId: string;
  title: string;
  intro: string;
  /** Controls beside the heading, such as an add button or a create form. */
  actions?: ComponentChildren;
  error: string | null;
  /** `null` until the first load finished. */
  items: T[] | null;
  loadingText: string;
  /** Content of the box shown when the list is empty. */
  empty: ComponentChildren;
  renderList: (items: T[]) => ComponentChildren;
  /** Shown between the error and the list, such as an edit form. */
  children?: ComponentChildren;
  /** Shown below the list (or its loading and empty states), such as a section about where it comes from. */
  footer?: ComponentChildren;
}

/** A page that lists things: heading with actions, load error, then loading, empty or the list. */
export function ListPage<T>(props: ListPageProps<T>) {
  const { titleId, title, intro, actions, error, items, loadingText, empty, renderList, children, footer } =
    props;
  return (
    <main class="page" aria-labelledby={titleId}>
      <div class="page-head">
        <div>
          <h1 id={titleId}>{title}</h1>
          <p class="muted">{intro}</p>
        </div>
        {actions}
      </div>
      <FormError message={error} />
      {children}
      {items === null && !error && <p class="muted">{loadingText}</p>}
      {items?.length === 0 && <div class="empty-state">{empty}</div>}
      {items && items.length > 0 && renderList(items)}
      {footer}
    </main>
  );
}
