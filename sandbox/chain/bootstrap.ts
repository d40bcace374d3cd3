// What the embedded chain sets up at boot, as an ordered list of steps. State is re-created on every
// start; keypairs come from the data directory, so every address is the same as last time.
import type { Logger } from 'pino';
import {
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  type Signer,
  type TransactionInstruction,
} from '@solana/web3.js';
import {
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import type { KeyStore } from './keystore.ts';

/** Public facts about a booted localnet, written to `<dataDir>/manifest.json` for other processes. */
export interface LocalnetManifest {
  rpcUrl: string;
  wsUrl: string;
  genesisHash: string;
  faucet: string;
  /** Program name → program id. */
  programs: Record<string, string>;
  /** Mint name → mint. */
  mints: Record<string, { address: string; decimals: number; authority: string; authorityKeypair: string }>;
  traders: { name: string; publicKey: string; keypair: string; tokenAccounts: Record<string, string> }[];
  /** Named addresses that later steps create (markets, config, oracle accounts, …): name → address. */
  accounts: Record<string, string>;
  /** The QuantDesk deployment, when quantdesk-bootstrap.ts booted it. */
  quantdesk?: QuantdeskManifest;
}

/** A keypair file in `<dataDir>/keys/` and its public key. */
export interface ManifestKeypair {
  publicKey: string;
  keypair: string;
}

/** What quantdeskBootstrapSteps() set up; bigints are decimal strings. */
export interface QuantdeskManifest {
  programId: string;
  config: string;
  vault: string;
  /** The insurance fund and the keeper stake vault (token accounts that are their own authority). */
  insuranceFund: string;
  keeperStakeVault: string;
  /** `initialize_keeper_network`'s parameters: quote units and slots, as decimal strings. */
  minKeeperStake: string;
  keeperCooldownSlots: string;
  /** The collateral mint (the manifest's `usdc` mint). */
  mint: string;
  /** Owner of the PriceUpdateV2 accounts and what `initialize` recorded as the Pyth receiver. */
  pythReceiver: string;
  maxKeeperFeeBps: number;
  admin: ManifestKeypair;
  oracleAuthority: ManifestKeypair;
  /** Registered keepers: `keeperAccount` is their Keeper PDA, `stake` what they locked (quote units). */
  keepers: (ManifestKeypair & { name: string; tokenAccount: string; keeperAccount: string; stake: string })[];
  /** `priceUpdate` is the PriceUpdateV2 account, present (and pinned as the market's oracle) only when a Hermes URL was given. */
  markets: { symbol: string; feedId: string; market: string; priceUpdate?: string }[];
  /** Where PriceUpdateV2 accounts are fed from; null when none was given. */
  hermesUrl: string | null;
  /** Markets whose price was pushed at boot (from Hermes `latest`). */
  initialPrices: string[];
  /**
   * Demo positions opened at boot, with the liquidation price the margin rules give (10^-9 USD);
   * `nearLiquidation`: opened at the highest leverage allowed, ~5 % from its liquidation price.
   */
  positions: {
    trader: string;
    symbol: string;
    position: string;
    side: 'long' | 'short';
    size: string;
    collateral: string;
    entryPrice: string;
    liquidationPrice: string | null;
    nearLiquidation: boolean;
  }[];
}

export class BootstrapError extends Error {
  readonly code = 'LOCALNET_BOOTSTRAP_FAILED';
  constructor(
    message: string,
    readonly logs: string[] = [],
  ) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/** An account as a step reads or writes it. */
export interface ChainAccount {
  lamports: bigint;
  owner: string;
  executable: boolean;
  data: Uint8Array;
}

/**
 * Writing an account outright: what a local network allows and a cluster does not (surfpool's
 * `surfnet_setAccount`). Only the Pyth PriceUpdateV2 accounts use it: posting a
 * signed update needs Wormhole, which a local network does not have.
 */
export interface AccountCheat {
  /** The slot the chain is at (a written account's `posted_slot`). */
  slot(): Promise<bigint>;
  setAccount(address: PublicKey, account: ChainAccount): Promise<void>;
}

/**
 * What a step gets: the keystore, the manifest to fill in, and the chain through a few calls that
 * any cluster's RPC can answer (plus `cheat`, for accounts a local network may write directly).
 * The same steps could boot any cluster whose RPC offers such a cheat.
 */
export interface BootstrapContext {
  readonly keys: KeyStore;
  readonly manifest: LocalnetManifest;
  readonly log: Logger;
  readonly cheat: AccountCheat;
  /** Signs (first signer pays), lands it with a recent blockhash and returns the signature. Throws BootstrapError with logs on failure. */
  send(instructions: TransactionInstruction[], signers: Signer[]): Promise<string>;
  /** Real faucet transfer; throws BootstrapError on failure. */
  airdrop(to: PublicKey, lamports: bigint): Promise<string>;
  /** Loads an SBF program (.so) at `programId` and records it in the manifest under `name`. */
  deployProgram(name: string, programId: PublicKey, soPath: string): Promise<void>;
  /** The program id a program gets when none is configured (the embedded chain's: program-keys.ts). */
  defaultProgramId(name: string): PublicKey;
  readAccount(address: PublicKey): Promise<ChainAccount | null>;
  rentExempt(size: number): Promise<bigint>;
  /** Registers work to undo when the localnet stops (or its boot fails): background feeds, timers. */
  onStop(cleanup: () => void | Promise<void>): void;
}

/**
 * One bootstrap step. Steps run in order before the RPC ports open, so no client sees a half-built chain.
 * This is the extension point for the program: deploy it (`ctx.deployProgram`), then create markets,
 * Pyth accounts and positions with steps that use its client.
 */
export interface BootstrapStep {
  readonly name: string;
  run(ctx: BootstrapContext): void | Promise<void>;
}

/** Independent bootstrap transactions in flight at once. */
export const BOOTSTRAP_CONCURRENCY = 16;

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The keypair that pays for bootstrap transactions. */
export function bootstrapPayer(ctx: BootstrapContext): Signer {
  return ctx.keys.loadOrCreate('bootstrap-payer');
}

const PAYER_LAMPORTS = 1_000n * BigInt(LAMPORTS_PER_SOL);

/** A USDC-like SPL mint at a persisted keypair address, with a persisted mint authority. */
export function usdcMintStep(options: { name?: string; decimals?: number } = {}): BootstrapStep {
  const name = options.name ?? 'usdc';
  const decimals = options.decimals ?? 6;
  return {
    name: `mint:${name}`,
    async run(ctx) {
      const payer = bootstrapPayer(ctx);
      if ((await ctx.readAccount(payer.publicKey)) === null) await ctx.airdrop(payer.publicKey, PAYER_LAMPORTS);
      const mint = ctx.keys.loadOrCreate(`${name}-mint`);
      const authority = ctx.keys.loadOrCreate(`${name}-mint-authority`);
      const rent = await ctx.rentExempt(MINT_SIZE);
      await ctx.send(
        [
          SystemProgram.createAccount({
            fromPubkey: payer.publicKey,
            newAccountPubkey: mint.publicKey,
            lamports: Number(rent),
            space: MINT_SIZE,
            programId: new PublicKey(TOKEN_PROGRAM_ID),
          }),
          createInitializeMint2Instruction(mint.publicKey, decimals, authority.publicKey, null),
        ],
        [payer, mint],
      );
      ctx.manifest.mints[name] = {
        address: mint.publicKey.toBase58(),
        decimals,
        authority: authority.publicKey.toBase58(),
        authorityKeypair: ctx.keys.path(`${name}-mint-authority`),
      };
      ctx.log.info({ mint: name, address: mint.publicKey.toBase58(), decimals }, 'bootstrap.mint_created');
    },
  };
}

/**
 * Demo traders `trader-1` … `trader-N`: SOL from the faucet and an associated token account holding
 * `tokenAmount` base units of the mint `mintName` (created by usdcMintStep before this step).
 */
export function demoTradersStep(
  options: { count?: number; lamports?: bigint; mintName?: string; tokenAmount?: bigint } = {},
): BootstrapStep {
  const count = options.count ?? 3;
  const lamports = options.lamports ?? 100n * BigInt(LAMPORTS_PER_SOL);
  const mintName = options.mintName ?? 'usdc';
  return {
    name: 'demo-traders',
    async run(ctx) {
      const mintInfo = ctx.manifest.mints[mintName];
      if (mintInfo === undefined) throw new BootstrapError(`demo traders need the mint "${mintName}" (run usdcMintStep first)`);
      const tokenAmount = options.tokenAmount ?? 10_000n * 10n ** BigInt(mintInfo.decimals);
      const payer = bootstrapPayer(ctx);
      const mint = new PublicKey(mintInfo.address);
      const authority = ctx.keys.loadOrCreate(`${mintName}-mint-authority`);
      const numbers = Array.from({ length: count }, (_, i) => i + 1);
      // Several at once: over RPC each waits for its confirmation, and a crowd of traders is hundreds.
      const traders = await mapConcurrently(numbers, BOOTSTRAP_CONCURRENCY, async (i) => {
        const name = `trader-${i}`;
        const trader = ctx.keys.loadOrCreate(name);
        await ctx.airdrop(trader.publicKey, lamports);
        const ata = getAssociatedTokenAddressSync(mint, trader.publicKey);
        await ctx.send(
          [
            createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, ata, trader.publicKey, mint),
            createMintToInstruction(mint, ata, authority.publicKey, tokenAmount),
          ],
          [payer, authority],
        );
        return { name, publicKey: trader.publicKey.toBase58(), keypair: ctx.keys.path(name), tokenAccounts: { [mintName]: ata.toBase58() } };
      });
      ctx.manifest.traders.push(...traders);
      ctx.log.info({ traders: count, mint: mintName }, 'bootstrap.traders_created');
    },
  };
}

/** What boots when no steps are given: the USDC-like mint and three funded demo traders. */
export function defaultBootstrapSteps(options: { traders?: number } = {}): BootstrapStep[] {
  return [usdcMintStep(), demoTradersStep(options.traders === undefined ? {} : { count: options.traders })];
}
