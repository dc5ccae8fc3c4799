/**
 * A generation worker that dies after sending three steps of its first run (the real worker, with
 * its messages counted), for the pool's fallback test.
 */
import { parentPort } from 'node:worker_threads';

if (parentPort !== null) {
  const port = parentPort;
  const post = port.postMessage.bind(port);
  let steps = 0;
  port.postMessage = (message: { type?: string }) => {
    if (message.type === 'step' && ++steps > 3) process.exit(3);
    post(message);
  };
}
await import('../../../src-main/engine/model/generation-worker.js');
