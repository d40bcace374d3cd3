// programs/client and its dependencies use Node's global Buffer; the browser gets the `buffer`
// package's, installed before any of them is evaluated (import this module first).
import { Buffer } from 'buffer';

const g = globalThis as { Buffer?: typeof Buffer };
g.Buffer ??= Buffer;
