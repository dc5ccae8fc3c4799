/** The embedded demo: the simulated deployment's logs and base model, run end to end (pipeline.ts). */
export type {
  DemoCheckpointResult,
  DemoHost,
  DemoHyperparameters,
  DemoOptions,
  DemoPlan,
  DemoResult,
  DemoStep,
} from './pipeline.js';
export {
  FULL_PLAN,
  QUICK_PLAN,
  defaultDemoResources,
  demoRunConfig,
  prepareDemoWorkspace,
  runDemo,
} from './pipeline.js';
