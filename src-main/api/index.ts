/** The contract: channel names, schemas, the event map, Result and AppError. */
export * from './errors.js';
export * from './schemas.js';
export * from './datasets.js';
export * from './signals.js';
export * from './models.js';
export * from './runs.js';
export * from './eval.js';
export * from './export.js';
export * from './contract.js';
export * from './events.js';
export * from './dispatch.js';
export * from './names.js';
