/**
 * What kind of Supabase key a string is, read from the key itself (no network): new-style keys
 * by prefix, legacy JWT keys by their `role` claim. Undefined when it is neither.
 */
export function supabaseKeyRole(key: string): string | undefined {
  if (key.startsWith('sb_publishable_')) return 'anon';
  if (key.startsWith('sb_secret_')) return 'service_role';
  const parts = key.split('.');
  if (parts.length !== 3) return undefined;
  try {
    // atob, not Buffer: the Edge Function (Deno) reads keys too.
    const b64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes)) as { role?: unknown };
    return typeof payload.role === 'string' ? payload.role : undefined;
  } catch {
    return undefined;
  }
}
