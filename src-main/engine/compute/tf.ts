/**
 * The one tfjs instance of the engine. Every engine module imports `tf` from here, never from
 * '@tensorflow/tfjs' directly, so that backends, kernels and shims are all registered with the same
 * copy of tfjs-core (two copies would each keep their own backend and kernel registry).
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
