import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../runtime/config.ts';
import { temporalDevServer } from '../scripts/services.ts';
import { Supervisor } from '../scripts/supervisor.ts';
import { connectClient, connectWorker } from '../temporal/connection.ts';
import { freePort, outputSink, uniqueName, waitFor } from './support.ts';
import { CLIENT_CN, createTestPki, startTlsTerminator, type TestPki, type TlsTerminator } from './tls-terminator.ts';
import type { TlsEchoActivities } from './tls-workflows.ts';

/**
 * QD_TEMPORAL_TLS_* against a TLS-enabled Temporal: a dev server of this test's own (plaintext, on
 * a free port) behind two TLS terminators (tests/tls-terminator.ts), one requiring a client
 * certificate (a self-hosted mTLS cluster), one not; certificates from throwaway CAs made with
 * openssl. Every connection is built the way a process builds it: variables → loadConfig →
 * connectClient / connectWorker.
 */
const NAMESPACE = 'default';
const dir = mkdtempSync(join(tmpdir(), 'qd-temporal-tls-'));
const out = outputSink();
let supervisor: Supervisor;
let pki: TestPki;
/** Another CA with its own server and client certificates: trusted by nobody here. */
let stranger: TestPki;
let mtls: TlsTerminator;
let tls: TlsTerminator;

// A refused connection must fail, not hang: the SDKs' own connect deadlines are 10 s.
const REFUSED_WITHIN_MS = 15_000;

/** The Temporal part of the configuration a process would get from these variables. */
const temporalConfig = (env: Record<string, string>) => loadConfig({ QD_TEMPORAL_NAMESPACE: NAMESPACE, ...env }).temporal;

/** How `connect` fails, and how long it took to. */
async function refusal(connect: () => Promise<{ close(): Promise<void> }>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const connection = await connect().catch((e: Error) => e);
  if (!(connection instanceof Error)) {
    await connection.close();
    throw new Error('connected, but should have been refused');
  }
  return { error: connection, ms: Date.now() - started };
}

/** Both our connections, client and worker, refused in bounded time; what each failed with. */
async function refusedBoth(cfg: Parameters<typeof connectClient>[0]) {
  const client = await refusal(async () => (await connectClient(cfg)).connection);
  const worker = await refusal(() => connectWorker(cfg));
  for (const r of [client, worker]) expect(r.ms).toBeLessThan(REFUSED_WITHIN_MS);
  return { client, worker };
}

beforeAll(async () => {
  [pki, stranger] = await Promise.all([createTestPki(dir, 'cluster'), createTestPki(dir, 'stranger')]);
  const port = await freePort();
  supervisor = new Supervisor(['temporal'], out.stream, false);
  await supervisor.start(temporalDevServer({ port, uiPort: 0, namespace: NAMESPACE, headless: true }));
  [mtls, tls] = await Promise.all([
    startTlsTerminator({ upstreamPort: port, pki, requireClientCert: true }),
    startTlsTerminator({ upstreamPort: port, pki, requireClientCert: false }),
  ]);
}, 120_000);

afterAll(async () => {
  await mtls?.close();
  await tls?.close();
  await supervisor?.stopAll();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`dev server (tail):\n${out.tail(40)}\nmTLS terminator refused: ${mtls?.refused.join(', ')}\nTLS terminator refused: ${tls?.refused.join(', ')}`);
});

describe('Temporal over TLS, configured by QD_TEMPORAL_TLS_*', () => {
  it('mTLS with the cluster CA and a client certificate: a worker polls through it and a workflow completes', async () => {
    const cfg = temporalConfig({
      QD_TEMPORAL_ADDRESS: mtls.address,
      QD_TEMPORAL_TLS_CA_FILE: pki.caFile,
      QD_TEMPORAL_TLS_CERT_FILE: pki.clientCertFile,
      QD_TEMPORAL_TLS_KEY_FILE: pki.clientKeyFile,
      // The certificate names both 127.0.0.1 and localhost: the override is checked against it.
      QD_TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    const taskQueue = uniqueName('tls-echo');
    const activities: TlsEchoActivities = { echo: async (text) => `${text} (activity)` };
    const connection = await connectWorker(cfg);
    const client = await connectClient(cfg);
    try {
      const worker = await Worker.create({
        connection,
        namespace: cfg.namespace,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('./tls-workflows.ts', import.meta.url)),
        activities,
      });
      const workflowId = uniqueName('tls-echo');
      const result = await worker.runUntil(client.workflow.execute('tlsEcho', { taskQueue, workflowId, args: ['over mTLS'] }));
      expect(result).toBe('over mTLS (activity) (workflow)');
      expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('COMPLETED');
    } finally {
      await client.connection.close();
      await connection.close();
    }
    // Both connections went through the terminator with our client certificate, none was refused.
    expect(mtls.peers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(mtls.peers)).toEqual(new Set([CLIENT_CN]));
    expect(mtls.refused).toEqual([]);
  }, 120_000);

  it('mTLS without a client certificate: client and worker connections are refused', async () => {
    const cfg = temporalConfig({ QD_TEMPORAL_ADDRESS: mtls.address, QD_TEMPORAL_TLS_CA_FILE: pki.caFile });
    const accepted = mtls.peers.length;
    await refusedBoth(cfg);
    // The terminator refused the handshakes, for want of a client certificate; nothing reached the dev server.
    expect(mtls.refused).toContain('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    expect(mtls.peers.length).toBe(accepted);
  }, 60_000);

  it('mTLS with a client certificate of another CA: refused', async () => {
    const cfg = temporalConfig({
      QD_TEMPORAL_ADDRESS: mtls.address,
      QD_TEMPORAL_TLS_CA_FILE: pki.caFile,
      QD_TEMPORAL_TLS_CERT_FILE: stranger.clientCertFile,
      QD_TEMPORAL_TLS_KEY_FILE: stranger.clientKeyFile,
    });
    const accepted = mtls.peers.length;
    await refusedBoth(cfg);
    // In TLS 1.3 the client's side of the handshake ends before the server has checked its
    // certificate: the terminator drops the connection then, and none was ever piped through.
    expect(mtls.peers.length).toBe(accepted);
  }, 60_000);

  it('TLS with the cluster CA only: the namespace is described and workflows listed', async () => {
    // No server name: the client checks the certificate against the address's IP, 127.0.0.1.
    const cfg = temporalConfig({ QD_TEMPORAL_ADDRESS: tls.address, QD_TEMPORAL_TLS_CA_FILE: pki.caFile });
    const client = await connectClient(cfg);
    try {
      const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: NAMESPACE });
      expect(namespaceInfo?.name).toBe(NAMESPACE);
      // A workflow started through this connection (no worker polls its queue) is listed through it.
      const workflowId = uniqueName('tls-listed');
      const handle = await client.workflow.start('tlsEcho', { taskQueue: uniqueName('tls-unpolled'), workflowId, args: ['listed'] });
      const listed = await waitFor('the started workflow in the list', async () => {
        for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) return w;
        return undefined;
      });
      expect({ type: listed.type, status: listed.status.name }).toEqual({ type: 'tlsEcho', status: 'RUNNING' });
      await handle.terminate('test over');
    } finally {
      await client.connection.close();
    }
    // The worker's connection (core, rustls) accepts the same server certificate.
    await (await connectWorker(cfg)).close();
    expect(tls.peers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tls.peers)).toEqual(new Set(['']));
  }, 60_000);

  it('TLS with a CA that did not sign the server certificate: refused by client and worker', async () => {
    const cfg = temporalConfig({ QD_TEMPORAL_ADDRESS: tls.address, QD_TEMPORAL_TLS_CA_FILE: stranger.caFile });
    const accepted = tls.peers.length;
    const { worker } = await refusedBoth(cfg);
    // Core names the cause; the client's channel only reports that it never got ready.
    expect(worker.error.message).toMatch(/InvalidCertificate\(UnknownIssuer\)/);
    // The client side ended the handshake (core with an "unknown CA" alert): nothing reached the dev server.
    expect(tls.refused).toContain('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    expect(tls.peers.length).toBe(accepted);
  }, 60_000);
});
