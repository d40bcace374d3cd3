import './buffer-global.ts';
import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import { StandardConnect, StandardDisconnect, type StandardConnectFeature, type StandardDisconnectFeature } from '@wallet-standard/features';
import { SolanaSignTransaction, type SolanaSignTransactionFeature } from '@solana/wallet-standard-features';
import { Transaction } from '@solana/web3.js';
import type { TxSigner } from './signer.ts';

/**
 * Wallets the browser's extensions register through Wallet Standard, usable when they can connect
 * and sign Solana transactions; behind the same `TxSigner` as the burner.
 */
export interface Discovered {
  name: string;
  icon: string;
  wallet: Wallet;
}

const usable = (w: Wallet) => StandardConnect in w.features && SolanaSignTransaction in w.features;

/** The usable wallets now, and a function to stop hearing about new ones. */
export function discover(onChange: (wallets: Discovered[]) => void): () => void {
  const registry = getWallets();
  const emit = () => onChange(registry.get().filter(usable).map((wallet) => ({ name: wallet.name, icon: wallet.icon, wallet })));
  emit();
  const offRegister = registry.on('register', emit);
  const offUnregister = registry.on('unregister', emit);
  return () => (offRegister(), offUnregister());
}

/** Solana's Wallet Standard chain for a cluster, from its genesis hash. */
export function chainOf(genesisHash: string): `solana:${string}` {
  const known: Record<string, string> = {
    '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d': 'solana:mainnet',
    EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG: 'solana:devnet',
    '4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY': 'solana:testnet',
  };
  return (known[genesisHash] ?? 'solana:localnet') as `solana:${string}`;
}

export async function connectStandard(d: Discovered, chain: `solana:${string}`): Promise<TxSigner & { disconnect(): Promise<void> }> {
  const features = d.wallet.features as StandardConnectFeature & Partial<StandardDisconnectFeature> & SolanaSignTransactionFeature;
  const { accounts } = await features[StandardConnect].connect();
  const account: WalletAccount | undefined = accounts.find((a) => a.chains.includes(chain)) ?? accounts[0];
  if (!account) throw new Error(`${d.name} offered no account`);
  return {
    kind: 'wallet-standard',
    label: d.name,
    address: account.address,
    async signTransaction(tx) {
      const bytes = tx.serialize({ requireAllSignatures: false, verifySignatures: false });
      const [out] = await features[SolanaSignTransaction].signTransaction({ account, transaction: bytes, chain });
      if (!out) throw new Error(`${d.name} returned no signed transaction`);
      return Transaction.from(out.signedTransaction);
    },
    async disconnect() {
      await features[StandardDisconnect]?.disconnect();
    },
  };
}
