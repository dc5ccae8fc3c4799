/** The workbench's views, in sidebar order. Ctrl/Cmd+1..8 select the first eight. */
export const VIEWS = [
  { id: 'home', title: 'Workspace', icon: 'home', summary: 'The workspace, its contents and the compute backend.' },
  { id: 'import', title: 'Import', icon: 'import', summary: 'Bring chat logs into the workspace.' },
  {
    id: 'conversations',
    title: 'Conversations',
    icon: 'conversations',
    summary: 'Imported conversations with satisfied and dissatisfied turns marked.',
  },
  {
    id: 'pairs',
    title: 'DSAT pairs',
    icon: 'pairs',
    summary: 'Preference pairs mined from dissatisfaction, for review.',
  },
  { id: 'models', title: 'Models', icon: 'models', summary: 'Local models, their training and a playground.' },
  { id: 'runs', title: 'Runs', icon: 'runs', summary: 'DRIFT, iterative DPO, SPIN and DPO training runs.' },
  { id: 'compare', title: 'Compare', icon: 'compare', summary: 'Runs and checkpoints side by side.' },
  { id: 'reports', title: 'Reports', icon: 'reports', summary: 'Build, preview and export reports.' },
  { id: 'settings', title: 'Settings', icon: 'settings', summary: 'Appearance and compute preferences.' },
] as const;

export type View = (typeof VIEWS)[number];
export type ViewId = View['id'];
export type IconName = View['icon'] | 'jobs' | 'alert' | 'check' | 'close' | 'play' | 'stop' | 'folder' | 'info';

export const DEFAULT_VIEW: ViewId = 'home';

export function isViewId(value: string): value is ViewId {
  return VIEWS.some((view) => view.id === value);
}

export function viewById(id: ViewId): View {
  return VIEWS.find((view) => view.id === id) ?? VIEWS[0];
}

/** `#/runs` → 'runs'; anything unknown (or empty) → the home view. */
export function viewFromHash(hash: string): ViewId {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return isViewId(name) ? name : DEFAULT_VIEW;
}

export function hashOf(view: ViewId): string {
  return `#/${view}`;
}
