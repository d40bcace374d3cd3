// Keypairs kept as files in the data directory, so addresses stay the same across restarts.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';

const NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Files are `<dir>/<name>.json`: a JSON array of the 64 secret-key bytes, as `solana-keygen` writes them. */
export class KeyStore {
  constructor(readonly dir: string) {}

  path(name: string): string {
    if (!NAME.test(name)) throw new Error(`keypair name must match ${NAME}: ${name}`);
    return join(this.dir, `${name}.json`);
  }

  /** Loads the named keypair, generating and saving it (readable by the owner only) the first time. */
  loadOrCreate(name: string): Keypair {
    const file = this.path(name);
    if (existsSync(file)) {
      const bytes: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!Array.isArray(bytes) || bytes.length !== 64 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
        throw new Error(`${file} is not a keypair file (expected a JSON array of 64 bytes)`);
      }
      return Keypair.fromSecretKey(Uint8Array.from(bytes as number[]));
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const keypair = Keypair.generate();
    writeFileSync(file, JSON.stringify(Array.from(keypair.secretKey)), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return keypair;
  }
}
