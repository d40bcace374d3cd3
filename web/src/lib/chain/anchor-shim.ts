// What programs/client imports as `@coral-xyz/anchor` in the browser (see vite.config.ts): the
// browser build, shaped like the CommonJS default export Node gives it (BN included).
import './buffer-global.ts';
import * as anchor from '@coral-xyz/anchor/dist/browser/index.js';
import BN from 'bn.js';

export * from '@coral-xyz/anchor/dist/browser/index.js';
export default { ...anchor, BN };
