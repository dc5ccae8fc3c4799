/**
 * Global setup of the browser tests: starts browser mode (`drift-wb serve`) on a free port
 * with a fresh workspace, hands its URL and token to the tests, and stops it afterwards.
 */
import type { TestProject } from 'vitest/node';
import { startBrowserMode } from './server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL the server printed, with `?token=`. */
    serverUrl: string;
    /** `http://127.0.0.1:PORT` */
    serverOrigin: string;
    serverToken: string;
    workspaceDir: string;
    chromiumPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startBrowserMode();
  project.provide('serverUrl', server.url);
  project.provide('serverOrigin', server.origin);
  project.provide('serverToken', server.token);
  project.provide('workspaceDir', server.workspaceDir);
  project.provide('chromiumPath', process.env.CHROMIUM_PATH || '/usr/bin/chromium');
  return () => server.stop();
}
