import { createHash } from 'node:crypto';
import { Keypair } from '@solana/web3.js';

/**
 * The program keypair the embedded chain deploys `name` with: derived from a public seed, so every
 * process can know the program id without reading a file, and worthless anywhere else (anyone can
 * derive it). A real cluster's program id is configuration (QD_PROGRAM_ID), its keypair kept apart.
 */
export function embeddedProgramKeypair(name: string): Keypair {
  return Keypair.fromSeed(createHash('sha256').update(`quantdesk embedded chain / program / ${name}`).digest());
}

export const EMBEDDED_PROGRAM_NAME = 'quantdesk_perp';
export const embeddedProgramId = () => embeddedProgramKeypair(EMBEDDED_PROGRAM_NAME).publicKey;
