import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.temporal.address).toBe('127.0.0.1:7233');
    expect(c.mongodbUri).toBe('mongodb://127.0.0.1:27017/quantdesk');
    expect(c.hermes.url).toBe('http://127.0.0.1:4010');
    expect(c.temporal.tls).toBeUndefined();
    expect(Object.isFrozen(c.temporal)).toBe(true);
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(Object.values(c.embedded).every(Boolean)).toBe(true);
  });

  it('tells which endpoints are embedded defaults and which are external', () => {
    const c = loadConfig({ QD_HERMES_URL: 'http://127.0.0.1:5555', QD_REDIS_URL: 'redis://cache.example.org:6380' });
    expect(c.embedded).toEqual({ temporal: true, mongodb: true, redis: false, hermes: false, coingecko: true, solana: true });
    expect(() => loadConfig({ QD_REDIS_URL: 'http://x' })).toThrow(/QD_REDIS_URL: must be a redis/);
  });

  it('points at real endpoints by configuration only', () => {
    const c = loadConfig({
      QD_HERMES_URL: 'https://hermes.example.org',
      QD_HERMES_API_KEY: 'k',
      QD_MONGODB_URI: 'mongodb+srv://u:p@cluster0.example.net/quantdesk',
      QD_TEMPORAL_ADDRESS: 'quantdesk.a1b2c.tmprl.cloud:7233',
      QD_TEMPORAL_NAMESPACE: 'quantdesk.a1b2c',
      QD_TEMPORAL_API_KEY: 'secret',
      QD_SOLANA_RPC_URL: 'https://rpc.example.org',
    });
    expect(c.hermes).toEqual({ url: 'https://hermes.example.org', apiKey: 'k' });
    expect(c.temporal.tls).toEqual({});
    expect(c.temporal.apiKey).toBe('secret');
  });

  it('names the variable when a value is wrong', () => {
    expect(() => loadConfig({ QD_GATEWAY_PORT: 'eighty' })).toThrow(/QD_GATEWAY_PORT/);
    expect(() => loadConfig({ QD_MONGODB_URI: 'http://localhost' })).toThrow(/QD_MONGODB_URI: must be a mongodb/);
    expect(() => loadConfig({ QD_TEMPORAL_ADDRESS: 'localhost' })).toThrow(/QD_TEMPORAL_ADDRESS: must be host:port/);
  });

  it('refuses unknown QD_ variables, so a typo is not silently ignored', () => {
    expect(() => loadConfig({ QD_HERMES_ULR: 'http://x' })).toThrow(/QD_HERMES_ULR: unknown variable/);
  });

  it('never echoes a secret in its error', () => {
    try {
      loadConfig({ QD_REDIS_URL: 'http://bus:hunter2-secret@cache.example.org:6379' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain('QD_REDIS_URL');
      expect((e as Error).message).not.toContain('hunter2-secret');
    }
  });

  it('requires certificate and key together, and TLS for an API key', () => {
    expect(() => loadConfig({ QD_TEMPORAL_TLS_CERT_FILE: '/c.pem' })).toThrow(/go together/);
    expect(() => loadConfig({ QD_TEMPORAL_TLS: 'false', QD_TEMPORAL_API_KEY: 'k' })).toThrow(/need TLS/);
  });

  it('takes the root CA of a self-hosted cluster, which implies TLS', () => {
    const mtls = loadConfig({
      QD_TEMPORAL_ADDRESS: 'temporal.internal.example:7233',
      QD_TEMPORAL_TLS_CA_FILE: '/etc/qd/ca.pem',
      QD_TEMPORAL_TLS_CERT_FILE: '/etc/qd/client.pem',
      QD_TEMPORAL_TLS_KEY_FILE: '/etc/qd/client.key',
      QD_TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(mtls.temporal.tls).toEqual({ caFile: '/etc/qd/ca.pem', certFile: '/etc/qd/client.pem', keyFile: '/etc/qd/client.key', serverName: 'temporal.internal' });
    // A CA alone is server-authenticated TLS, without a client certificate.
    expect(loadConfig({ QD_TEMPORAL_TLS_CA_FILE: '/etc/qd/ca.pem' }).temporal.tls).toEqual({ caFile: '/etc/qd/ca.pem' });
    expect(loadConfig({ QD_TEMPORAL_TLS: 'true', QD_TEMPORAL_TLS_CA_FILE: '/etc/qd/ca.pem' }).temporal.tls).toEqual({ caFile: '/etc/qd/ca.pem' });
    // Empty means not set, as for every variable.
    expect(loadConfig({ QD_TEMPORAL_TLS_CA_FILE: '' }).temporal.tls).toBeUndefined();
  });

  it('refuses a CA file with TLS turned off', () => {
    expect(() => loadConfig({ QD_TEMPORAL_TLS: 'false', QD_TEMPORAL_TLS_CA_FILE: '/etc/qd/ca.pem' })).toThrow(
      /QD_TEMPORAL_TLS=false contradicts an API key, client certificate or CA file, which need TLS/,
    );
  });
});
