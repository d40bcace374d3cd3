import Long from 'long';
import { Connection, type Client } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { SA } from './search-attributes.ts';

/**
 * Registers the custom search attributes on a cluster that was not started with them (a self-hosted
 * cluster; on Temporal Cloud they are added in the Cloud console or with tcld instead).
 * Attributes that already exist with the same type are left alone.
 */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const operator = client.connection.operatorService;
  const existing = await operator.listSearchAttributes({ namespace });
  const have = { ...existing.customAttributes, ...existing.systemAttributes };
  const missing = Object.values(SA).filter((k) => !(k.name in have));
  if (missing.length === 0) return [];
  await operator.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
  });
  return missing.map((k) => k.name);
}

/**
 * Registers a namespace (dev server or self-hosted cluster) unless it exists, and waits until it
 * answers: creation reaches the frontend's cache a moment later.
 */
export async function ensureNamespace(address: string, namespace: string, retentionDays = 1): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(retentionDays * 86_400) } });
    } catch (e) {
      if (!/already exists/i.test((e as Error).message)) throw e;
    }
    for (let i = 0; ; i++) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await connection.close();
  }
}
