// The keeper network: initialize_keeper_network (insurance fund, stake vault), register_keeper,
// deregister_keeper and withdraw_keeper_stake, each with the checks of its accounts.
import { beforeAll, describe, expect, it } from 'vitest';
import { AccountLayout, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import {
  configAddress,
  deregisterKeeperInstruction,
  initializeKeeperNetworkInstruction,
  insuranceFundAddress,
  keeperAddress,
  keeperStakeVaultAddress,
  registerKeeperInstruction,
  withdrawKeeperStakeInstruction,
} from '../../client/quantdesk-perp.ts';
import { KEEPER_COOLDOWN_SLOTS, MIN_KEEPER_STAKE, PerpHarness, USDC, type Trader, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

describe('initialize_keeper_network', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('creates the insurance fund and the stake vault, token accounts that are their own authority', async () => {
    const h = await PerpHarness.create();
    for (const address of [insuranceFundAddress(h.programId), keeperStakeVaultAddress(h.programId)]) {
      const a = h.mustAccount(address);
      expect(a.owner.equals(TOKEN_PROGRAM_ID)).toBe(true);
      const token = AccountLayout.decode(a.data);
      expect([token.mint.toBase58(), token.owner.toBase58(), token.amount]).toEqual([h.mint.publicKey.toBase58(), address.toBase58(), 0n]);
    }
    const c = h.config();
    expect([c.minKeeperStake, c.keeperCooldownSlots]).toEqual([MIN_KEEPER_STAKE, KEEPER_COOLDOWN_SLOTS]);
    expect(h.send([h.keeperNetworkIx()], [h.admin]).error).toBe('KeeperNetworkInitialized');
  });

  it('is for the admin, signed, with the config\'s mint and a minimum stake', async () => {
    const h = await PerpHarness.create({ keeperNetwork: false });
    expect(h.config().insuranceFund).toBeNull();
    const intruder = Keypair.generate();
    h.airdrop(intruder.publicKey, 1_000_000_000n);
    const ix = (admin = h.admin.publicKey, opts: { mint?: PublicKey; minKeeperStake?: bigint } = {}) =>
      initializeKeeperNetworkInstruction({ admin, mint: opts.mint ?? h.mint.publicKey, minKeeperStake: opts.minKeeperStake ?? USDC, keeperCooldownSlots: 10n, programId: h.programId });
    expect(h.send([ix(intruder.publicKey)], [intruder]).error).toBe('Unauthorized');
    const unsigned = ix();
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    const readOnlyConfig = ix();
    readOnlyConfig.keys[1]!.isWritable = false;
    expect(h.send([readOnlyConfig], [h.admin]).error).toBe('AccountNotWritable');
    expect(h.send([ix(undefined, { minKeeperStake: 0n })], [h.admin]).error).toBe('InvalidConfigParams');
    const other = Keypair.generate();
    h.createMint(other, 6);
    expect(h.send([ix(undefined, { mint: other.publicKey })], [h.admin]).error).toBe('InvalidMint');
    const wrongPda = ix();
    wrongPda.keys[3]!.pubkey = Keypair.generate().publicKey;
    expect(h.send([wrongPda], [h.admin]).error).toBe('InvalidPda');
    const forged = Keypair.generate().publicKey;
    h.setAccount(forged, h.mustAccount(configAddress(h.programId)).data, Keypair.generate().publicKey);
    const foreignConfig = ix();
    foreignConfig.keys[1]!.pubkey = forged;
    expect(h.send([foreignConfig], [h.admin]).error).toBe('WrongAccountOwner');
    expect(h.send([ix()], [h.admin]).ok).toBe(true);
  });
});

describe('register_keeper, deregister_keeper, withdraw_keeper_stake', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  async function setup() {
    const h = await PerpHarness.create();
    const t = h.trader(1_000n);
    const register = (stake = MIN_KEEPER_STAKE, who: Trader = t) =>
      registerKeeperInstruction({ authority: who.keypair.publicKey, authorityTokenAccount: who.tokenAccount, stake, programId: h.programId });
    const deregister = (who: Trader = t) => deregisterKeeperInstruction({ authority: who.keypair.publicKey, programId: h.programId });
    const withdraw = (who: Trader = t) => withdrawKeeperStakeInstruction({ authority: who.keypair.publicKey, authorityTokenAccount: who.tokenAccount, programId: h.programId });
    const stakeVault = () => h.tokenBalance(keeperStakeVaultAddress(h.programId));
    return { h, t, register, deregister, withdraw, stakeVault };
  }

  it('locks the stake in the vault and creates the keeper at its PDA, active', async () => {
    const { h, t, register, stakeVault } = await setup();
    expect(h.send([register(250n * USDC)], [t.keypair]).ok).toBe(true);
    expect([h.tokenBalance(t.tokenAccount), stakeVault()]).toEqual([750n * USDC, 250n * USDC]);
    const k = h.keeperAccount(t.keypair.publicKey);
    expect([k.status, k.stake, k.registeredSlot, k.authority.toBase58()]).toEqual(['active', 250n * USDC, h.slot, t.keypair.publicKey.toBase58()]);
    expect(h.mustAccount(keeperAddress(t.keypair.publicKey, h.programId)).owner.equals(h.programId)).toBe(true);
    expect(h.send([register()], [t.keypair]).error).toBe('KeeperAlreadyRegistered');
  });

  it('refuses a stake below the minimum, another vault, a keeper account at another address, and needs the network', async () => {
    const { h, t, register } = await setup();
    expect(h.send([register(MIN_KEEPER_STAKE - 1n)], [t.keypair]).error).toBe('KeeperStakeTooLow');
    const wrongVault = register();
    wrongVault.keys[4]!.pubkey = h.createTokenAccount(t.keypair.publicKey);
    expect(h.send([wrongVault], [t.keypair]).error).toBe('WrongStakeVault');
    const wrongPda = register();
    wrongPda.keys[2]!.pubkey = keeperAddress(Keypair.generate().publicKey, h.programId);
    expect(h.send([wrongPda], [t.keypair]).error).toBe('InvalidPda');
    const unsigned = register();
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    const readOnly = register();
    readOnly.keys[2]!.isWritable = false;
    expect(h.send([readOnly], [t.keypair]).error).toBe('AccountNotWritable');
    const bare = await PerpHarness.create({ keeperNetwork: false });
    const u = bare.trader(1_000n);
    expect(
      bare.send([registerKeeperInstruction({ authority: u.keypair.publicKey, authorityTokenAccount: u.tokenAccount, stake: MIN_KEEPER_STAKE, programId: bare.programId })], [u.keypair]).error,
    ).toBe('KeeperNetworkNotInitialized');
  });

  it('deregisters, waits out the cooldown, returns the stake, and registers again with its statistics', async () => {
    const { h, t, register, deregister, withdraw, stakeVault } = await setup();
    h.mustSend([register(300n * USDC)], [t.keypair]);
    expect(h.send([withdraw()], [t.keypair]).error).toBe('KeeperNotDeregistering');
    h.advance(1);
    h.mustSend([deregister()], [t.keypair]);
    const deregisteredAt = h.slot;
    expect(h.keeperAccount(t.keypair.publicKey)).toMatchObject({ status: 'deregistering', deregisteredSlot: deregisteredAt });
    expect(h.send([deregister()], [t.keypair]).error).toBe('KeeperNotActive');
    expect(h.send([register()], [t.keypair]).error).toBe('KeeperAlreadyRegistered');
    h.setTime(h.now + 10n, deregisteredAt + KEEPER_COOLDOWN_SLOTS - 1n);
    expect(h.send([withdraw()], [t.keypair]).error).toBe('KeeperCooldownActive');
    h.setTime(h.now + 1n, deregisteredAt + KEEPER_COOLDOWN_SLOTS);
    expect(h.send([withdraw()], [t.keypair]).ok).toBe(true);
    expect([h.tokenBalance(t.tokenAccount), stakeVault()]).toEqual([1_000n * USDC, 0n]);
    expect(h.keeperAccount(t.keypair.publicKey)).toMatchObject({ status: 'inactive', stake: 0n });
    expect(h.send([withdraw()], [t.keypair]).error).toBe('KeeperNotDeregistering');
    expect(h.send([deregister()], [t.keypair]).error).toBe('KeeperNotActive');
    h.mustSend([register(200n * USDC)], [t.keypair]);
    expect(h.keeperAccount(t.keypair.publicKey)).toMatchObject({ status: 'active', stake: 200n * USDC, deregisteredSlot: 0n });
  });

  it('lets only the keeper\'s authority deregister and withdraw, signed, from the config\'s vault', async () => {
    const { h, t, register, deregister, withdraw } = await setup();
    h.mustSend([register()], [t.keypair]);
    const mallory = h.trader(0n);
    const foreign = deregister(mallory);
    foreign.keys[1]!.pubkey = keeperAddress(t.keypair.publicKey, h.programId);
    expect(h.send([foreign], [mallory.keypair]).error).toBe('WrongKeeper');
    expect(h.send([deregister(mallory)], [mallory.keypair]).error).toBe('WrongAccountOwner');
    const unsigned = deregister();
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    const readOnlyKeeper = deregister();
    readOnlyKeeper.keys[1]!.isWritable = false;
    expect(h.send([readOnlyKeeper], [t.keypair]).error).toBe('AccountNotWritable');
    h.mustSend([deregister()], [t.keypair]);
    h.setTime(h.now + 60n, h.slot + KEEPER_COOLDOWN_SLOTS);
    const steal = withdraw(mallory);
    steal.keys[2]!.pubkey = keeperAddress(t.keypair.publicKey, h.programId);
    expect(h.send([steal], [mallory.keypair]).error).toBe('WrongKeeper');
    const wrongVault = withdraw();
    wrongVault.keys[4]!.pubkey = insuranceFundAddress(h.programId);
    expect(h.send([wrongVault], [t.keypair]).error).toBe('WrongStakeVault');
    const readOnly = withdraw();
    readOnly.keys[2]!.isWritable = false;
    expect(h.send([readOnly], [t.keypair]).error).toBe('AccountNotWritable');
    const unsignedWithdraw = withdraw();
    unsignedWithdraw.keys[0]!.isSigner = false;
    expect(h.send([unsignedWithdraw], [h.payer]).error).toBe('MissingSignature');
    expect(h.send([withdraw()], [t.keypair]).ok).toBe(true);
    expect(h.tokenBalance(mallory.tokenAccount)).toBe(0n);
  });
});
