// The workflow bundle's entry point: every workflow a worker may run.
export { systemCheck } from './system-check.ts';
