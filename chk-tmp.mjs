import { register } from 'tsx/esm/api';
register();
const before = performance.now();
await import('./src-main/engine/model/store.ts');
const loaded = Object.keys(await import('node:module')).length;
console.log('imported in', (performance.now()-before).toFixed(0), 'ms');
