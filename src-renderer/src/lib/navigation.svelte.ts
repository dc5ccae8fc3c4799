/**
 * Which view is showing. The address's hash (`#/runs`) is the source of truth, so views are
 * linkable and the back and forward buttons work.
 */
import { hashOf, viewById, viewFromHash, type View, type ViewId } from './views.js';

export class Navigation {
  current = $state<ViewId>(viewFromHash(window.location.hash));
  readonly view: View = $derived(viewById(this.current));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.current = viewFromHash(window.location.hash);
    });
  }

  /** Shows a view, adding a history entry. */
  go(view: ViewId): void {
    if (window.location.hash === hashOf(view)) return;
    window.location.hash = hashOf(view);
  }
}

export const navigation = new Navigation();
