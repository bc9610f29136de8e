import { z } from 'zod';

/**
 * A number that may be NaN or ±∞ in memory: JSON writes those as null, so null reads back as NaN.
 * For results and metric rows whose values can be non-finite (a diverged fit, an undefined statistic).
 */
export const real = z
  .custom<number | null>(
    (v) => v === null || typeof v === 'number',
    'expected a number (null stands for NaN)',
  )
  .transform((v) => (v === null ? Number.NaN : v));
