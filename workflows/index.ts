// The workflow bundle's entry point: every workflow a worker may run.
export { systemCheck } from './system-check.ts';
export { priceIngestion } from './price-ingestion.ts';
export { retention } from './retention.ts';
export { oracleSync } from './oracle-sync.ts';
export { liquidationSaga } from './liquidation-saga.ts';
export { liquidationScan, liquidationScanner } from './liquidation-scanner.ts';
