/** Lookups in flight at once for one read, unless the caller says otherwise. */
export const FAN_OUT = 8;

/**
 * `fetch` over `items`, `width` at a time (the database sees a bounded burst, not one per item at
 * once), results in the order of `items`; stops between batches once `signal` aborts.
 */
export async function inBatches<T, R>(items: readonly T[], fetch: (item: T) => Promise<R>, o: { width?: number; signal?: AbortSignal | undefined } = {}): Promise<R[]> {
  const width = o.width ?? FAN_OUT;
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    o.signal?.throwIfAborted();
    out.push(...(await Promise.all(items.slice(i, i + width).map(fetch))));
  }
  return out;
}
