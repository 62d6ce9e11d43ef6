/** The schema version templates/schema.sql creates (no file access here: the Edge Function imports it). */
export const SCHEMA_VERSION = 5;
