import { ConfigError } from '@gcvi/runtime';
import type { z } from 'zod';

/** Parse with a zod schema; the first issue becomes a ConfigError naming the dotted field path. */
export function parseWithSchema<T>(schema: z.ZodType<T>, raw: unknown, prefix: string): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path ? `${prefix}.${path}` : prefix;
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more issue(s))` : '';
  throw new ConfigError(field, `${issue?.message ?? 'invalid'}${more}`);
}
