import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

/** Stored workflow histories, replayed by workflows/replay.test.ts and added to by `npm run histories`. */
export const HISTORIES_DIR = fileURLToPath(new URL('../workflows/histories/', import.meta.url));

/** `<workflowType>.<status>.<shape>.json`: the shape is a hash of the history's event types. */
export const historyFileName = (workflowType: string, status: string, shape: string) => `${workflowType}.${status.toLowerCase()}.${shape}.json`;

export const workflowTypeOf = (file: string) => file.split('.')[0]!;

/**
 * A stored history (the CLI's JSON export), decoded with the protobufjs copy that
 * @temporalio/proto's types come from. The SDK's `historyFromJSON` uses @temporalio/common's own
 * copy, whose JSON reader refuses types made by the other ("type must be a Type") when npm installs
 * them apart, as it does here.
 */
const fromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const { fromJson } = fromProto('protobufjs/ext/protojson') as { fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null };
const { patchProtobufRoot } = fromProto('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): unknown } };
const historyType = patchProtobufRoot(fromProto('@temporalio/proto')).lookupType('temporal.api.history.v1.History');

export function readHistory(file: string): History {
  const history = fromJson(historyType, JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')), { ignoreUnknownFields: true });
  if (!history) throw new Error(`${file} is not a workflow history`);
  return history;
}
