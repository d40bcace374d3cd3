// The Solana JSON-RPC methods, answered from the Ledger with a validator's shapes and errors.
import bs58 from 'bs58';
import { z } from 'zod';
import type { Logger } from 'pino';
import { address } from '@solana/kit';
import { PublicKey, VersionedMessage } from '@solana/web3.js';
import { RpcError, RpcErrorCode, invalidParams } from './json-rpc.ts';
import {
  checkEncoding,
  compileFilters,
  encodeAccount,
  matchesFilters,
  type AccountEncoding,
  type AccountView,
  type DataSlice,
  type UiAccount,
} from './account-encoding.ts';
import { SLOTS_PER_EPOCH, type InnerInstructionGroup, type LandedTransaction, type Ledger, type SimulationResult } from './ledger.ts';
import { describeTransactionError } from './tx-errors.ts';
import { decodeWireTransaction } from './wire.ts';
import {
  accountConfig,
  accountEncoding,
  commitment,
  contextConfig,
  filter,
  parseParams,
  pubkey,
  signature,
  u64,
} from './rpc-params.ts';
import { TOKEN_PROGRAM_IDS, decodeMint, decodeTokenAccount, tokenAccountKeys, uiTokenAmount } from './token-accounts.ts';

/** Version of the agave runtime crates inside litesvm 1.5.0 (read from its native binary). */
export const SOLANA_CORE_VERSION = '4.3.0';

// Input limits from agave's JSON-RPC service.
const MAX_MULTIPLE_ACCOUNTS = 100;
const MAX_SIGNATURE_STATUSES = 256;
const MAX_PRIORITIZATION_FEE_ACCOUNTS = 128;
const MAX_SIGNATURES_FOR_ADDRESS = 1000;
const MAX_TOKEN_LARGEST_ACCOUNTS = 20;

export interface RpcMethodContext {
  ledger: Ledger;
  log: Logger;
  /** Validator identity reported by getIdentity / getSlotLeader. */
  identity: string;
  /** Largest single airdrop; null for no cap beyond the faucet's balance. */
  airdropCapLamports: bigint | null;
}

export type RpcMethod = (params: unknown[]) => unknown;

const wireEncoding = z.enum(['base58', 'base64']);
const parse = parseParams;

// ---- shared answers ------------------------------------------------------------------------------

function withContext<T>(ledger: Ledger, value: T): { context: { apiVersion: string; slot: number }; value: T } {
  return { context: { apiVersion: SOLANA_CORE_VERSION, slot: ledger.slot }, value };
}

function checkMinContextSlot(ledger: Ledger, config: { minContextSlot?: number | undefined } | null | undefined): void {
  const min = config?.minContextSlot;
  if (min !== undefined && ledger.slot < min) {
    throw new RpcError(RpcErrorCode.minContextSlotNotReached, 'Minimum context slot has not been reached', {
      contextSlot: ledger.slot,
    });
  }
}

function uiAccount(ledger: Ledger, account: AccountView, encoding: AccountEncoding, slice: DataSlice | undefined): UiAccount {
  return encodeAccount(account, encoding, slice, ledger);
}

function partiallyDecoded(keys: string[], ix: { programIdIndex: number; accounts: number[]; data: string; stackHeight: number | null }) {
  return {
    programId: keys[ix.programIdIndex] ?? '',
    accounts: ix.accounts.map((i) => keys[i] ?? ''),
    data: ix.data,
    stackHeight: ix.stackHeight,
  };
}

function innerJson(groups: InnerInstructionGroup[], keys: string[] | null) {
  return groups.map((g) => ({
    index: g.index,
    instructions: g.instructions.map((ix) => (keys === null ? ix : partiallyDecoded(keys, ix))),
  }));
}

function simulationJson(sim: SimulationResult, accounts: (UiAccount | null)[] | null, inner: unknown[] | null) {
  return {
    err: sim.err,
    logs: sim.logs,
    accounts,
    unitsConsumed: sim.unitsConsumed,
    returnData: sim.returnData,
    innerInstructions: inner,
    replacementBlockhash: sim.replacementBlockhash,
    fee: sim.err === null ? sim.fee : null,
  };
}

function transactionJson(record: LandedTransaction, encoding: 'json' | 'jsonParsed' | 'base64' | 'base58') {
  if (encoding === 'base64') return [Buffer.from(record.bytes).toString('base64'), 'base64'];
  if (encoding === 'base58') return [bs58.encode(record.bytes), 'base58'];
  const message = record.message;
  const staticKeys = message.staticAccountKeys.map((k) => k.toBase58());
  const lookups =
    message.version === 0
      ? {
          addressTableLookups: message.addressTableLookups.map((l) => ({
            accountKey: l.accountKey.toBase58(),
            writableIndexes: l.writableIndexes,
            readonlyIndexes: l.readonlyIndexes,
          })),
        }
      : {};
  const instructions = message.compiledInstructions.map((ix) => ({
    programIdIndex: ix.programIdIndex,
    accounts: ix.accountKeyIndexes,
    data: bs58.encode(ix.data),
    stackHeight: null,
  }));
  if (encoding === 'json') {
    return {
      signatures: record.signatures,
      message: { accountKeys: staticKeys, header: message.header, recentBlockhash: message.recentBlockhash, instructions, ...lookups },
    };
  }
  // jsonParsed: instructions are left partially decoded (program id, account keys, base58 data).
  const allKeys = record.keys.keys;
  const accountKeys = allKeys.map((pubkeyText, i) => ({
    pubkey: pubkeyText,
    writable: record.keys.writable[i] ?? false,
    signer: i < message.header.numRequiredSignatures,
    source: i < staticKeys.length ? 'transaction' : 'lookupTable',
  }));
  return {
    signatures: record.signatures,
    message: {
      accountKeys,
      recentBlockhash: message.recentBlockhash,
      instructions: instructions.map((ix) => partiallyDecoded(allKeys, ix)),
      ...lookups,
    },
  };
}

function tokenProgramOf(ledger: Ledger, filterArg: { mint?: string | undefined; programId?: string | undefined }) {
  if (filterArg.mint !== undefined) {
    const mint = ledger.readAccount(filterArg.mint);
    if (mint === null || !TOKEN_PROGRAM_IDS.has(mint.owner) || decodeMint(mint.owner, mint.data) === null) {
      throw invalidParams('Invalid param: could not find mint');
    }
    return { programId: mint.owner, mint: bs58.decode(filterArg.mint) };
  }
  if (filterArg.programId === undefined || !TOKEN_PROGRAM_IDS.has(filterArg.programId)) {
    throw invalidParams('Invalid param: unrecognized Token program id');
  }
  return { programId: filterArg.programId, mint: null };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function programAccounts(ledger: Ledger, programId: string): { pubkey: string; account: AccountView }[] {
  return ledger.svm.getProgramAccounts(address(programId)).map((a) => ({
    pubkey: a.address,
    account: { lamports: BigInt(a.lamports), owner: a.programAddress, executable: a.executable, data: Uint8Array.from(a.data) },
  }));
}

// ---- the methods -------------------------------------------------------------------------------

export function createRpcMethods(ctx: RpcMethodContext): Map<string, RpcMethod> {
  const { ledger, log } = ctx;
  const methods = new Map<string, RpcMethod>();
  const def = (name: string, fn: RpcMethod) => methods.set(name, fn);

  def('getHealth', () => 'ok');
  def('getVersion', () => ({ 'solana-core': SOLANA_CORE_VERSION }));
  def('getGenesisHash', () => ledger.genesisHash);
  def('getIdentity', () => ({ identity: ctx.identity }));
  def('getSlotLeader', (p) => {
    checkMinContextSlot(ledger, parse(z.tuple([contextConfig.nullish()]), p)[0]);
    return ctx.identity;
  });

  const slotLike = (value: () => number): RpcMethod => (p) => {
    const [config] = parse(z.tuple([contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    return value();
  };
  def('getSlot', slotLike(() => ledger.slot));
  def('getBlockHeight', slotLike(() => ledger.blockHeight));
  def('getTransactionCount', slotLike(() => ledger.transactionCount));
  def('getFirstAvailableBlock', () => ledger.firstAvailableSlot());
  def('minimumLedgerSlot', () => ledger.firstAvailableSlot());

  def('getEpochInfo', (p) => {
    const [config] = parse(z.tuple([contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    return {
      absoluteSlot: ledger.slot,
      blockHeight: ledger.blockHeight,
      epoch: Math.floor(ledger.slot / SLOTS_PER_EPOCH),
      slotIndex: ledger.slot % SLOTS_PER_EPOCH,
      slotsInEpoch: SLOTS_PER_EPOCH,
      transactionCount: ledger.transactionCount,
    };
  });
  def('getEpochSchedule', () => ({
    slotsPerEpoch: SLOTS_PER_EPOCH,
    leaderScheduleSlotOffset: SLOTS_PER_EPOCH,
    warmup: false,
    firstNormalEpoch: 0,
    firstNormalSlot: 0,
  }));
  def('getBlockTime', (p) => {
    const [slot] = parse(z.tuple([u64]), p);
    const time = ledger.blockTime(slot);
    if (time === null || slot > ledger.slot) {
      throw new RpcError(RpcErrorCode.blockNotAvailable, `Block not available for slot ${slot}`);
    }
    return time;
  });

  def('getLatestBlockhash', (p) => {
    const [config] = parse(z.tuple([contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    return withContext(ledger, ledger.latestBlockhash());
  });
  def('isBlockhashValid', (p) => {
    const [blockhash, config] = parse(z.tuple([pubkey, contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    return withContext(ledger, ledger.isBlockhashValid(blockhash));
  });
  def('getFeeForMessage', (p) => {
    const [encoded, config] = parse(z.tuple([z.string(), contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    let message: VersionedMessage;
    try {
      message = VersionedMessage.deserialize(Buffer.from(encoded, 'base64'));
    } catch (err) {
      throw invalidParams(`invalid message: ${(err as Error).message}`);
    }
    return withContext(ledger, ledger.feeForMessage(message));
  });
  def('getRecentPrioritizationFees', (p) => {
    const [accounts] = parse(z.tuple([z.array(pubkey).nullish()]), p);
    if ((accounts?.length ?? 0) > MAX_PRIORITIZATION_FEE_ACCOUNTS) {
      throw invalidParams(`Too many inputs provided; max ${MAX_PRIORITIZATION_FEE_ACCOUNTS}`);
    }
    return ledger.recentPrioritizationFees(accounts ?? []);
  });
  def('getMinimumBalanceForRentExemption', (p) => {
    const [size, config] = parse(z.tuple([u64, contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    return ledger.svm.minimumBalanceForRentExemption(BigInt(size));
  });

  // -- accounts --
  def('getBalance', (p) => {
    const [key, config] = parse(z.tuple([pubkey, contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    return withContext(ledger, ledger.readAccount(key)?.lamports ?? 0n);
  });
  def('getAccountInfo', (p) => {
    const [key, config] = parse(z.tuple([pubkey, accountConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    const encoding = config?.encoding ?? 'binary';
    checkEncoding(encoding, config?.dataSlice);
    const account = ledger.readAccount(key);
    return withContext(ledger, account === null ? null : uiAccount(ledger, account, encoding, config?.dataSlice));
  });
  def('getMultipleAccounts', (p) => {
    const [keys, config] = parse(z.tuple([z.array(pubkey), accountConfig.nullish()]), p);
    if (keys.length > MAX_MULTIPLE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
    checkMinContextSlot(ledger, config);
    const encoding = config?.encoding ?? 'binary';
    checkEncoding(encoding, config?.dataSlice);
    return withContext(
      ledger,
      keys.map((key) => {
        const account = ledger.readAccount(key);
        return account === null ? null : uiAccount(ledger, account, encoding, config?.dataSlice);
      }),
    );
  });
  def('getProgramAccounts', (p) => {
    const config = accountConfig.extend({ filters: z.array(filter).nullish(), withContext: z.boolean().optional() });
    const [programId, cfg] = parse(z.tuple([pubkey, config.nullish()]), p);
    checkMinContextSlot(ledger, cfg);
    const encoding = cfg?.encoding ?? 'binary';
    checkEncoding(encoding, cfg?.dataSlice);
    const filters = compileFilters(cfg?.filters ?? []);
    const value = programAccounts(ledger, programId)
      .filter(({ account }) => matchesFilters(account, filters))
      .map(({ pubkey: key, account }) => ({ pubkey: key, account: uiAccount(ledger, account, encoding, cfg?.dataSlice) }));
    return cfg?.withContext === true ? withContext(ledger, value) : value;
  });

  // -- tokens --
  const tokenAccountsBy = (role: 'owner' | 'delegate'): RpcMethod => (p) => {
    const filterArg = z.union([z.object({ mint: pubkey }), z.object({ programId: pubkey })], {
      error: 'expected {"mint": <pubkey>} or {"programId": <pubkey>}',
    });
    const [who, which, config] = parse(z.tuple([pubkey, filterArg, accountConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    const encoding = config?.encoding ?? 'binary';
    checkEncoding(encoding, config?.dataSlice);
    const { programId, mint } = tokenProgramOf(ledger, which);
    const whoBytes = bs58.decode(who);
    const value = programAccounts(ledger, programId)
      .filter(({ account }) => {
        const keys = tokenAccountKeys(account.owner, account.data);
        if (keys === null) return false;
        const party = role === 'owner' ? keys.owner : keys.delegate;
        return party !== null && equalBytes(party, whoBytes) && (mint === null || equalBytes(keys.mint, mint));
      })
      .map(({ pubkey: key, account }) => ({ pubkey: key, account: uiAccount(ledger, account, encoding, config?.dataSlice) }));
    return withContext(ledger, value);
  };
  def('getTokenAccountsByOwner', tokenAccountsBy('owner'));
  def('getTokenAccountsByDelegate', tokenAccountsBy('delegate'));
  def('getTokenAccountBalance', (p) => {
    const [key, config] = parse(z.tuple([pubkey, contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    const account = ledger.readAccount(key);
    if (account === null) throw invalidParams('Invalid param: could not find account');
    const token = decodeTokenAccount(account.owner, account.data);
    if (!TOKEN_PROGRAM_IDS.has(account.owner) || token === null) throw invalidParams('Invalid param: not a Token account');
    const decimals = ledger.decimalsOfMint(token.mint);
    if (decimals === null) throw invalidParams('Invalid param: could not find mint');
    return withContext(ledger, uiTokenAmount(token.amount, decimals));
  });
  def('getTokenSupply', (p) => {
    const [key, config] = parse(z.tuple([pubkey, contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    const account = ledger.readAccount(key);
    const mint = account === null ? null : decodeMint(account.owner, account.data);
    if (account === null || !TOKEN_PROGRAM_IDS.has(account.owner) || mint === null) {
      throw invalidParams('Invalid param: not a Token mint');
    }
    return withContext(ledger, uiTokenAmount(mint.supply, mint.decimals));
  });
  def('getTokenLargestAccounts', (p) => {
    const [key, config] = parse(z.tuple([pubkey, contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    const { programId, mint } = tokenProgramOf(ledger, { mint: key });
    const decimals = ledger.decimalsOfMint(key) ?? 0;
    const holders = programAccounts(ledger, programId)
      .map(({ pubkey: holder, account }) => ({ holder, token: decodeTokenAccount(account.owner, account.data) }))
      .filter(({ token }) => token !== null && token.state !== 'uninitialized' && mint !== null && equalBytes(bs58.decode(token.mint), mint))
      .sort((a, b) => ((b.token?.amount ?? 0n) > (a.token?.amount ?? 0n) ? 1 : (b.token?.amount ?? 0n) < (a.token?.amount ?? 0n) ? -1 : 0))
      .slice(0, MAX_TOKEN_LARGEST_ACCOUNTS)
      .map(({ holder, token }) => ({ address: holder, ...uiTokenAmount(token?.amount ?? 0n, decimals) }));
    return withContext(ledger, holders);
  });

  // -- transactions --
  def('sendTransaction', (p) => {
    const config = z.object({
      encoding: wireEncoding.optional(),
      skipPreflight: z.boolean().optional(),
      preflightCommitment: commitment.optional(),
      maxRetries: u64.optional(),
      minContextSlot: u64.optional(),
    });
    const [encoded, cfg] = parse(z.tuple([z.string(), config.nullish()]), p);
    checkMinContextSlot(ledger, cfg);
    const decoded = decodeWireTransaction(encoded, cfg?.encoding ?? 'base58');
    if (cfg?.skipPreflight !== true) {
      const sim = ledger.simulate(decoded, { sigVerify: true, replaceRecentBlockhash: false });
      if (sim.err === 'SignatureFailure') {
        throw new RpcError(RpcErrorCode.transactionSignatureVerificationFailure, 'Transaction signature verification failure');
      }
      if (sim.err !== null) {
        throw new RpcError(
          RpcErrorCode.sendTransactionPreflightFailure,
          `Transaction simulation failed: ${describeTransactionError(sim.err)}`,
          simulationJson(sim, null, null),
        );
      }
    }
    const result = ledger.land(decoded);
    if (result.status === 'dropped') log.info({ signature: result.signature, err: result.err }, 'tx.dropped');
    return decoded.signature;
  });

  def('simulateTransaction', (p) => {
    const config = contextConfig.extend({
      encoding: wireEncoding.optional(),
      sigVerify: z.boolean().optional(),
      replaceRecentBlockhash: z.boolean().optional(),
      innerInstructions: z.boolean().optional(),
      accounts: z.object({ addresses: z.array(pubkey), encoding: accountEncoding.optional() }).nullish(),
    });
    const [encoded, cfg] = parse(z.tuple([z.string(), config.nullish()]), p);
    checkMinContextSlot(ledger, cfg);
    const sigVerify = cfg?.sigVerify ?? false;
    const replace = cfg?.replaceRecentBlockhash ?? false;
    if (sigVerify && replace) throw invalidParams('sigVerify may not be used with replaceRecentBlockhash');
    const decoded = decodeWireTransaction(encoded, cfg?.encoding ?? 'base58');
    const accountsEncoding = cfg?.accounts?.encoding ?? 'base64';
    if (accountsEncoding === 'binary' || accountsEncoding === 'base58') throw invalidParams('base58 encoding not supported');
    checkEncoding(accountsEncoding, undefined);
    const maxAccounts = decoded.tx.message.staticAccountKeys.length +
      decoded.tx.message.addressTableLookups.reduce((n, l) => n + l.writableIndexes.length + l.readonlyIndexes.length, 0);
    if ((cfg?.accounts?.addresses.length ?? 0) > maxAccounts) {
      throw invalidParams(`Too many accounts provided; max ${maxAccounts}`);
    }
    const sim = ledger.simulate(decoded, { sigVerify, replaceRecentBlockhash: replace });
    if (sim.err === 'SignatureFailure' && sigVerify) {
      throw new RpcError(RpcErrorCode.transactionSignatureVerificationFailure, 'Transaction signature verification failure');
    }
    const accounts =
      cfg?.accounts === undefined || cfg.accounts === null
        ? null
        : cfg.accounts.addresses.map((key) => {
            const account = sim.postAccounts.get(key) ?? ledger.readAccount(key);
            return account === null ? null : uiAccount(ledger, account, accountsEncoding, undefined);
          });
    const keys = decoded.tx.message.staticAccountKeys.map((k) => k.toBase58());
    const inner = cfg?.innerInstructions === true ? innerJson(sim.innerInstructions, keys) : null;
    return withContext(ledger, simulationJson(sim, accounts, inner));
  });

  def('getSignatureStatuses', (p) => {
    const config = z.object({ searchTransactionHistory: z.boolean().optional() });
    const [signatures, cfg] = parse(z.tuple([z.array(signature), config.nullish()]), p);
    if (signatures.length > MAX_SIGNATURE_STATUSES) throw invalidParams(`Too many inputs provided; max ${MAX_SIGNATURE_STATUSES}`);
    const search = cfg?.searchTransactionHistory ?? false;
    return withContext(
      ledger,
      signatures.map((sig) => {
        const status = ledger.signatureStatus(sig, search);
        return status === null ? null : { ...status, status: status.err === null ? { Ok: null } : { Err: status.err } };
      }),
    );
  });

  def('getTransaction', (p) => {
    const config = z.object({
      encoding: z.enum(['json', 'jsonParsed', 'base64', 'base58']).optional(),
      commitment: commitment.optional(),
      maxSupportedTransactionVersion: z.number().int().min(0).optional(),
    });
    const [sig, cfg] = parse(z.tuple([signature, z.union([config, z.enum(['json', 'jsonParsed', 'base64', 'base58'])]).nullish()]), p);
    const options = typeof cfg === 'string' ? { encoding: cfg } : (cfg ?? {});
    if (options.commitment === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
    const record = ledger.getTransaction(sig);
    if (record === null) return null;
    const version = record.message.version;
    const maxVersion = 'maxSupportedTransactionVersion' in options ? options.maxSupportedTransactionVersion : undefined;
    if (version !== 'legacy' && (maxVersion === undefined || version > maxVersion)) {
      throw new RpcError(
        RpcErrorCode.unsupportedTransactionVersion,
        `Transaction version (${version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": ${version}`,
      );
    }
    const encoding = options.encoding ?? 'json';
    const parsedKeys = encoding === 'jsonParsed' ? record.keys.keys : null;
    const meta: Record<string, unknown> = {
      err: record.err,
      status: record.err === null ? { Ok: null } : { Err: record.err },
      fee: record.fee,
      preBalances: record.preBalances,
      postBalances: record.postBalances,
      innerInstructions: innerJson(record.innerInstructions, parsedKeys),
      logMessages: record.logs,
      preTokenBalances: record.preTokenBalances,
      postTokenBalances: record.postTokenBalances,
      rewards: [],
      loadedAddresses: record.keys.loaded,
      computeUnitsConsumed: record.computeUnitsConsumed,
    };
    if (record.returnData !== null) meta.returnData = record.returnData;
    return {
      slot: record.slot,
      blockTime: record.blockTime,
      transaction: transactionJson(record, encoding),
      meta,
      ...(maxVersion !== undefined ? { version } : {}),
    };
  });

  def('getSignaturesForAddress', (p) => {
    const config = contextConfig.extend({
      limit: z.number().int().min(1).max(MAX_SIGNATURES_FOR_ADDRESS).optional(),
      before: signature.optional(),
      until: signature.optional(),
    });
    const [key, cfg] = parse(z.tuple([pubkey, config.nullish()]), p);
    checkMinContextSlot(ledger, cfg);
    const records = ledger.signaturesForAddress(key, {
      limit: cfg?.limit ?? MAX_SIGNATURES_FOR_ADDRESS,
      ...(cfg?.before !== undefined ? { before: cfg.before } : {}),
      ...(cfg?.until !== undefined ? { until: cfg.until } : {}),
    });
    return records.map((r) => ({
      signature: r.signature,
      slot: r.slot,
      err: r.err,
      memo: r.memo,
      blockTime: r.blockTime,
      confirmationStatus: r.slot <= ledger.rootSlot ? 'finalized' : 'confirmed',
    }));
  });

  def('requestAirdrop', (p) => {
    const [key, amount, config] = parse(z.tuple([pubkey, u64.min(1), contextConfig.nullish()]), p);
    checkMinContextSlot(ledger, config);
    const lamports = BigInt(amount);
    if (ctx.airdropCapLamports !== null && lamports > ctx.airdropCapLamports) {
      throw new RpcError(
        RpcErrorCode.internalError,
        `airdrop request failed: ${lamports} lamports exceeds the per-request cap of ${ctx.airdropCapLamports}`,
      );
    }
    const result = ledger.airdrop(new PublicKey(key), lamports);
    if (result.status === 'dropped') {
      throw new RpcError(RpcErrorCode.internalError, `airdrop request failed: ${describeTransactionError(result.err)}`);
    }
    log.debug({ to: key, lamports, signature: result.record.signature }, 'airdrop');
    return result.record.signature;
  });

  return methods;
}
