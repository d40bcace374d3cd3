import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, PublicKey, SystemProgram } from '@solana/web3.js';
import { AccountLayout, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { configAddress, initializeInstruction, vaultAddress } from '../../client/quantdesk-perp.ts';
import { PerpHarness, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

describe('initialize', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('creates the config and a vault that is its own token authority', async () => {
    const h = await PerpHarness.create({ maxKeeperFeeBps: 150 });
    const config = h.config();
    expect(config.admin.equals(h.admin.publicKey)).toBe(true);
    expect(config.oracleAuthority.equals(h.oracle.publicKey)).toBe(true);
    expect(config.pythReceiver.equals(h.pythReceiver)).toBe(true);
    expect(config.mint.equals(h.mint.publicKey)).toBe(true);
    expect(config.vault.equals(vaultAddress(h.programId))).toBe(true);
    expect(config.maxKeeperFeeBps).toBe(150);
    expect(config.bump).toBe(PublicKey.findProgramAddressSync([Buffer.from('config')], h.programId)[1]);
    expect(config.vaultBump).toBe(PublicKey.findProgramAddressSync([Buffer.from('vault')], h.programId)[1]);

    const configAccount = h.mustAccount(configAddress(h.programId));
    expect(configAccount.owner.equals(h.programId)).toBe(true);
    expect(configAccount.lamports).toBeGreaterThanOrEqual(h.svm.minimumBalanceForRentExemption(BigInt(configAccount.data.length)));

    const vault = h.mustAccount(vaultAddress(h.programId));
    expect(vault.owner.equals(TOKEN_PROGRAM_ID)).toBe(true);
    const token = AccountLayout.decode(vault.data);
    expect(token.mint.equals(h.mint.publicKey)).toBe(true);
    expect(token.owner.equals(vaultAddress(h.programId))).toBe(true);
    expect(token.amount).toBe(0n);
  });

  it('works at any program id: every address derives from the id the runtime passes', async () => {
    const programId = Keypair.generate().publicKey;
    const h = await PerpHarness.create({ programId });
    expect(h.mustAccount(configAddress(programId)).owner.equals(programId)).toBe(true);
    const sol = h.createMarket();
    h.mustPush(sol);
    expect(h.market(sol).price).toBe(15_000_000_000n);
  });

  it('runs once', async () => {
    const h = await PerpHarness.create();
    expect(h.send([h.initializeIx()], [h.admin]).error).toBe('AlreadyInitialized');
  });

  it('still creates the config when someone pre-funded its address', async () => {
    const h = await PerpHarness.create({ initialize: false });
    h.mustSend([SystemProgram.transfer({ fromPubkey: h.payer.publicKey, toPubkey: configAddress(h.programId), lamports: Number(h.svm.minimumBalanceForRentExemption(0n)) })], [h.payer]);
    h.mustSend([h.initializeIx()], [h.admin]);
    expect(h.config().admin.equals(h.admin.publicKey)).toBe(true);
  });

  it('requires the admin to sign', async () => {
    const h = await PerpHarness.create({ initialize: false });
    const ix = h.initializeIx();
    ix.keys[0]!.isSigner = false;
    expect(h.send([ix], [h.payer]).error).toBe('MissingSignature');
  });

  it('refuses a mint that is not 6-decimal SPL, or owned by another program', async () => {
    const h = await PerpHarness.create({ initialize: false });
    const nineDecimals = Keypair.generate();
    h.createMint(nineDecimals, 9);
    const ix = (mint: PublicKey) =>
      initializeInstruction({ admin: h.admin.publicKey, mint, oracleAuthority: h.oracle.publicKey, pythReceiver: h.pythReceiver, maxKeeperFeeBps: 100, programId: h.programId });
    expect(h.send([ix(nineDecimals.publicKey)], [h.admin]).error).toBe('InvalidMint');
    const fake = Keypair.generate().publicKey;
    h.setAccount(fake, h.mustAccount(h.mint.publicKey).data, SystemProgram.programId);
    expect(h.send([ix(fake)], [h.admin]).error).toBe('WrongAccountOwner');
  });

  it('refuses accounts that are not the config and vault addresses', async () => {
    const h = await PerpHarness.create({ initialize: false });
    const wrongConfig = h.initializeIx();
    wrongConfig.keys[1]!.pubkey = Keypair.generate().publicKey;
    expect(h.send([wrongConfig], [h.admin]).error).toBe('InvalidPda');
    const wrongVault = h.initializeIx();
    wrongVault.keys[3]!.pubkey = Keypair.generate().publicKey;
    expect(h.send([wrongVault], [h.admin]).error).toBe('InvalidPda');
  });

  it('refuses a wrong token program and a keeper fee ceiling above 100 %', async () => {
    const h = await PerpHarness.create({ initialize: false });
    const wrongProgram = h.initializeIx();
    wrongProgram.keys[4]!.pubkey = Keypair.generate().publicKey;
    expect(h.send([wrongProgram], [h.admin]).error).toBe('WrongProgramAccount');
    expect(h.send([h.initializeIx(10_001)], [h.admin]).error).toBe('InvalidConfigParams');
  });
});
