// The analytics body as a JS developer would check it with zod 4 (the bench's "robust JS"
// contender and the hand-written proxy, bench/handwritten-proxy.mjs): the API's rules, without
// this package.
import { z } from 'zod';

const count = () => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish().transform((v) => v ?? 0);

export const analyticsSchema = z.object({
  post_item_id: z.string().min(1), post_type: z.string().min(1), platform: z.string().min(1), status: z.string(),
  metrics: z.object({ views: count(), likes: count(), comments: count(), fetched_at: z.iso.datetime({ offset: true }) }).nullable(),
});

/** The API's error envelope. */
export const errorSchema = z.object({ error: z.object({ message: z.string(), code: z.string() }) });
