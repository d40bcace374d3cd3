import type { PublicKey } from '@solana/web3.js';
import type { OnChainPrice } from '../../domain/push-policy.ts';
import type { OracleChain } from './chain.ts';

/**
 * What the program's markets hold, as far as the sync knows: read from the chain when the sync
 * starts, after a push that did not confirm (another writer may have moved it, or it may have
 * landed unseen), and on a slow timer; between those, updated from the pushes it saw confirmed —
 * so a healthy sync does not read the chain back after every push.
 */
export class OnChainBook {
  private readonly prices = new Map<string, OnChainPrice>();
  private lastVerified = 0;
  private doubt = true;

  constructor(
    private readonly chain: Pick<OracleChain, 'readMarkets'>,
    private readonly addresses: ReadonlyMap<string, PublicKey>,
    private readonly verifyEveryMs: number,
    private readonly now: () => number,
  ) {}

  get(symbol: string): OnChainPrice | undefined {
    return this.prices.get(symbol);
  }

  /** A push landed: the market holds this price now. */
  confirmed(symbol: string, price: OnChainPrice): void {
    const had = this.prices.get(symbol);
    if (!had || price.publishTime >= had.publishTime) this.prices.set(symbol, price);
  }

  /** Something went wrong (a refused or lost push, an RPC error): read the chain before deciding again. */
  distrust(): void {
    this.doubt = true;
  }

  get needsVerify(): boolean {
    return this.doubt || this.now() - this.lastVerified >= this.verifyEveryMs;
  }

  /** Reads every market from the chain (throws when the RPC fails); a newer on-chain price wins. */
  async verify(): Promise<void> {
    const symbols = [...this.addresses.keys()];
    const accounts = await this.chain.readMarkets(symbols.map((s) => this.addresses.get(s)!));
    symbols.forEach((symbol, i) => {
      const a = accounts[i];
      if (a) this.prices.set(symbol, { price: a.price, conf: a.conf, expo: a.expo, publishTime: a.publishTime });
    });
    this.lastVerified = this.now();
    this.doubt = false;
  }
}
