import type { z } from 'zod';
import { AppError } from '../errors.js';
import { validationDetails } from '../schemas.js';

/** Parses input with a schema, or throws `validation_failed` with the reasons. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new AppError('validation_failed', 'invalid request', validationDetails(result.error));
  return result.data;
}
