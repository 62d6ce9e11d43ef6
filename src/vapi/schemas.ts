/**
 * zod schemas at the Vapi boundary. Only the fields voxctl reads are checked; every other field
 * passes through verbatim (loose objects), because Vapi's PATCH replaces nested objects whole and
 * a dropped field would be wiped on the next write.
 */
import { z } from 'zod';
import type { VapiAssistant, VapiPhoneNumber, VapiTool } from './types.js';

const serverSchema = z.looseObject({
  url: z.string().optional(),
  credentialId: z.string().nullish(),
  headers: z.record(z.string(), z.unknown()).nullish(),
});

const functionToolSchema = z.looseObject({
  type: z.string(),
  function: z.looseObject({ name: z.string().optional() }).nullish(),
  server: serverSchema.nullish(),
});

export const assistantSchema = z.looseObject({
  id: z.string().min(1),
  createdAt: z.string(),
  name: z.string().nullish(),
  server: serverSchema.nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  model: z
    .looseObject({
      toolIds: z.array(z.string()).nullish(),
      tools: z.array(functionToolSchema).nullish(),
    })
    .nullish(),
});

export const toolSchema = functionToolSchema.extend({
  id: z.string().min(1),
  createdAt: z.string(),
});

export const phoneNumberSchema = z.looseObject({
  id: z.string().min(1),
  createdAt: z.string(),
  assistantId: z.string().nullish(),
  server: serverSchema.nullish(),
});

export type ResourceSchema = typeof assistantSchema | typeof toolSchema | typeof phoneNumberSchema;

export const schemas = {
  assistant: assistantSchema,
  tool: toolSchema,
  phoneNumber: phoneNumberSchema,
} as const;

export interface ResourceTypes {
  assistant: VapiAssistant;
  tool: VapiTool;
  phoneNumber: VapiPhoneNumber;
}

/** A readable summary of the first problems of a failed parse, e.g. `[3].createdAt: expected string`. */
export function describeIssues(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((i) => {
      const p = i.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('').replace(/^\./, '');
      return `${p || '(body)'}: ${i.message}`;
    })
    .join('; ');
}
