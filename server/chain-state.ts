import bs58 from 'bs58';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { PublicKey, type Commitment, type Connection } from '@solana/web3.js';
import {
  ACCOUNT_SIZE,
  QUANTDESK_PERP_PROGRAM_ID,
  accountDiscriminator,
  configAddress,
  decodeConfig,
  decodeKeeper,
  decodeMarket,
  decodePosition,
  marketAddress,
  positionAddress,
  type ConfigAccount,
  type KeeperAccount,
  type MarketAccount,
  type PositionAccount,
} from '../programs/client/quantdesk-perp.ts';

/**
 * What the gateway reads from the chain for the dashboard: the program's market accounts (the
 * pushed price the program trades at, and its parameters), a wallet's positions, SOL and token
 * balances. Read through the configured Solana RPC: the chain is the truth the program enforces,
 * so the dashboard shows what a trade would meet, not what the sync believes it pushed.
 */
export interface ChainReader {
  readonly programId: PublicKey;
  config(): Promise<ConfigAccount | undefined>;
  /** Market accounts of these symbols; a symbol without one (not created on this cluster) is absent. */
  markets(symbols: readonly string[]): Promise<Map<string, MarketAccount & { address: string }>>;
  /** The owner's position account in each market that has one (flat ones too: they hold collateral). */
  positions(owner: PublicKey, symbols: readonly string[]): Promise<Map<string, PositionAccount & { address: string }>>;
  /** Lamports and every SPL token account of the owner. */
  wallet(owner: PublicKey): Promise<{ lamports: bigint; tokens: TokenBalance[] }>;
  slot(): Promise<number>;
  /** Every keeper account of the program (the on-chain registry). */
  keepers(): Promise<(KeeperAccount & { address: string })[]>;
}

export interface TokenBalance {
  account: string;
  mint: string;
  /** Integer amount in the token's base units. */
  amount: string;
  decimals: number;
}

/** getMultipleAccounts takes at most 100 addresses per call. */
async function accountsOf(connection: Connection, keys: PublicKey[], commitment: Commitment) {
  const out: (Awaited<ReturnType<Connection['getMultipleAccountsInfo']>>[number])[] = [];
  for (let i = 0; i < keys.length; i += 100) out.push(...(await connection.getMultipleAccountsInfo(keys.slice(i, i + 100), commitment)));
  return out;
}

export function createRpcChainReader(connection: Connection, o: { programId?: PublicKey; commitment?: Commitment; cacheMs?: number; now?: () => number } = {}): ChainReader {
  const programId = o.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  const commitment = o.commitment ?? 'confirmed';
  const now = o.now ?? Date.now;
  // Many dashboards poll the same market accounts: one RPC read per `cacheMs` serves them all.
  const cacheMs = o.cacheMs ?? 1_000;
  let cached: { at: number; key: string; value: Promise<Map<string, MarketAccount & { address: string }>> } | undefined;
  const addresses = new Map<string, PublicKey>();
  const marketKey = (symbol: string) => {
    let a = addresses.get(symbol);
    if (!a) addresses.set(symbol, (a = marketAddress(symbol, programId)));
    return a;
  };

  return {
    programId,
    async config() {
      const info = await connection.getAccountInfo(configAddress(programId), commitment);
      return info && info.owner.equals(programId) ? decodeConfig(info.data) : undefined;
    },
    markets(symbols) {
      const key = symbols.join(',');
      if (cached && cached.key === key && now() - cached.at < cacheMs) return cached.value;
      const value = (async () => {
        const keys = symbols.map(marketKey);
        const infos = await accountsOf(connection, keys, commitment);
        const out = new Map<string, MarketAccount & { address: string }>();
        infos.forEach((info, i) => {
          if (info && info.owner.equals(programId)) out.set(symbols[i]!, { ...decodeMarket(info.data), address: keys[i]!.toBase58() });
        });
        return out;
      })();
      cached = { at: now(), key, value };
      value.catch(() => (cached = undefined));
      return value;
    },
    async positions(owner, symbols) {
      const keys = symbols.map((s) => positionAddress(marketKey(s), owner, programId));
      const infos = await accountsOf(connection, keys, commitment);
      const out = new Map<string, PositionAccount & { address: string }>();
      infos.forEach((info, i) => {
        if (info && info.owner.equals(programId)) out.set(symbols[i]!, { ...decodePosition(info.data), address: keys[i]!.toBase58() });
      });
      return out;
    },
    async wallet(owner) {
      const [lamports, tokens] = await Promise.all([
        connection.getBalance(owner, commitment),
        connection.getParsedTokenAccountsByOwner(owner, { programId: TOKEN_PROGRAM_ID }, commitment),
      ]);
      return {
        lamports: BigInt(lamports),
        tokens: tokens.value.map(({ pubkey, account }) => {
          const info = (account.data as { parsed: { info: { mint: string; tokenAmount: { amount: string; decimals: number } } } }).parsed.info;
          return { account: pubkey.toBase58(), mint: info.mint, amount: info.tokenAmount.amount, decimals: info.tokenAmount.decimals };
        }),
      };
    },
    slot: () => connection.getSlot(commitment),
    async keepers() {
      const accounts = await connection.getProgramAccounts(programId, {
        commitment,
        filters: [{ dataSize: ACCOUNT_SIZE.Keeper }, { memcmp: { offset: 0, bytes: bs58.encode(accountDiscriminator('Keeper')) } }],
      });
      return accounts.map((a) => ({ ...decodeKeeper(a.account.data), address: a.pubkey.toBase58() }));
    },
  };
}
