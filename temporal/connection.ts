import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../runtime/config.ts';

/**
 * Connections to Temporal for every process: the local dev server by default; Temporal Cloud or a
 * self-hosted cluster with an API key or mTLS certificates (and its own root CA) by configuration alone.
 */
type TemporalConfig = Config['temporal'];

async function tlsOptions(cfg: TemporalConfig) {
  if (!cfg.tls) return undefined;
  const { certFile, keyFile, serverName, caFile } = cfg.tls;
  // Each part left out keeps the SDK's default: the system's root CAs, the address's host, no client certificate.
  return {
    ...(serverName && { serverNameOverride: serverName }),
    ...(caFile && { serverRootCACertificate: await readFile(caFile) }),
    ...(certFile && keyFile && { clientCertPair: { crt: await readFile(certFile), key: await readFile(keyFile) } }),
  };
}

/** A client for starting, signalling and querying workflows (gateway, scripts, tests). */
export async function connectClient(cfg: TemporalConfig): Promise<Client> {
  const connection = Connection.lazy({
    address: cfg.address,
    tls: await tlsOptions(cfg),
    ...(cfg.apiKey && { apiKey: cfg.apiKey }),
  });
  try {
    await connection.ensureConnected();
  } catch (e) {
    // Connection.connect would leave the channel behind, redialling (a refused TLS handshake) for the process's life.
    await connection.close();
    throw e;
  }
  return new Client({ connection, namespace: cfg.namespace });
}

/** The native connection a Worker polls through. */
export async function connectWorker(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: cfg.address,
    tls: await tlsOptions(cfg),
    ...(cfg.apiKey && { apiKey: cfg.apiKey }),
  });
}
