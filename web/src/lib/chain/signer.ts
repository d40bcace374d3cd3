import type { Transaction } from '@solana/web3.js';

/**
 * What trading needs from a wallet, whichever it is: a burner keypair kept in this browser (embedded
 * localnet only) or a Wallet Standard wallet (a real cluster). Keys never leave the wallet.
 */
export interface TxSigner {
  readonly kind: 'burner' | 'wallet-standard';
  readonly label: string;
  /** Base58 public key. */
  readonly address: string;
  signTransaction(tx: Transaction): Promise<Transaction>;
}
