import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../src/errors.js';
import { createNgrokTunnelFactory, ngrokError, type NgrokListener, type NgrokSdk } from '../../src/tunnel/ngrok.js';
import type { TunnelStatus } from '../../src/tunnel/types.js';

const TOKEN = '2abcDEFghiJKLmnoPQRstu_0123456789abcdefgh';

/** Stands in for the napi SDK: records the config, reports status like the SDK does. */
function fakeSdk(behaviour: { fail?: Error; hang?: boolean; url?: string | null } = {}) {
  let closedOnce!: () => void;
  const state = {
    configs: [] as Array<Record<string, unknown>>,
    closed: 0,
    /** Resolves when the listener is first closed. */
    closedOnce: new Promise<void>((resolve) => (closedOnce = resolve)),
    resolveLate: undefined as undefined | (() => void),
  };
  const listener: NgrokListener = {
    url: () => (behaviour.url === undefined ? 'https://abc123.ngrok-free.app' : behaviour.url),
    close: async () => {
      state.closed++;
      closedOnce();
    },
  };
  const sdk: NgrokSdk = {
    forward: (config) => {
      state.configs.push(config);
      const onStatus = config.onStatusChange as (s: string) => void;
      // The real SDK reports "closed" for a failed first connect before rejecting.
      onStatus('closed');
      if (behaviour.fail) return Promise.reject(behaviour.fail);
      if (behaviour.hang) return new Promise((resolve) => (state.resolveLate = () => resolve(listener)));
      onStatus('connected');
      return Promise.resolve(listener);
    },
  };
  return { sdk, state };
}

describe('ngrok adapter', () => {
  it('passes the token explicitly, never from the env, with the domain and a status callback', async () => {
    const { sdk, state } = fakeSdk();
    const statuses: TunnelStatus[] = [];
    const tunnel = await createNgrokTunnelFactory({ loadSdk: async () => sdk }).open({
      addr: '127.0.0.1:4242',
      authtoken: TOKEN,
      domain: 'name.ngrok-free.dev',
      onStatus: (s) => statuses.push(s),
    });
    expect(state.configs[0]).toMatchObject({ addr: '127.0.0.1:4242', proto: 'http', authtoken: TOKEN, authtoken_from_env: false, domain: 'name.ngrok-free.dev' });
    expect(tunnel.url).toBe('https://abc123.ngrok-free.app');
    // Status reports during the first connect are not session changes.
    expect(statuses).toEqual([]);
    const onStatusChange = state.configs[0]!.onStatusChange as (s: string) => void;
    onStatusChange('closed');
    onStatusChange('connected');
    expect(statuses).toEqual(['disconnected', 'connected']);
    await tunnel.close();
    await tunnel.close();
    expect(state.closed).toBe(1);
    onStatusChange('closed');
    expect(statuses).toHaveLength(2);
  });

  it('refuses to start without a token (exit 4), without loading the SDK', async () => {
    let loaded = false;
    const err = await createNgrokTunnelFactory({ loadSdk: async () => ((loaded = true), fakeSdk().sdk) })
      .open({ addr: '127.0.0.1:1', authtoken: undefined })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).exitCode).toBe(4);
    expect(loaded).toBe(false);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up on an SDK that hangs (fake clock), and closes the tunnel if it opens later', async () => {
    vi.useFakeTimers();
    const { sdk, state } = fakeSdk({ hang: true });
    const opening = createNgrokTunnelFactory({ loadSdk: async () => sdk, openTimeoutMs: 30_000 })
      .open({ addr: '127.0.0.1:1', authtoken: TOKEN })
      .catch((e: unknown) => e) as Promise<Error & { exitCode: number }>;
    // Just before the bound it is still waiting for the SDK; at the bound it gives up.
    await vi.advanceTimersByTimeAsync(29_999);
    expect(state.configs).toHaveLength(1);
    let settled = false;
    void opening.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const err = await opening;
    expect(err.message).toMatch(/^Could not reach ngrok to open the tunnel \(failed to connect session: no answer from ngrok within 30 s/);
    expect(err.exitCode).toBe(1);
    // The SDK opens after all: the late listener is closed.
    state.resolveLate!();
    await state.closedOnce;
    expect(state.closed).toBe(1);
  });

  it('treats a listener without a URL as a failure', async () => {
    const { sdk, state } = fakeSdk({ url: null });
    await expect(createNgrokTunnelFactory({ loadSdk: async () => sdk }).open({ addr: '127.0.0.1:1', authtoken: TOKEN })).rejects.toThrow(/no public URL/);
    expect(state.closed).toBe(1);
  });
});

describe('ngrokError', () => {
  const sdkError = (message: string, code?: string) => Object.assign(new Error(message), code ? { errorCode: code } : {});

  it.each([
    ['ERR_NGROK_105', 4, 'credentials', /rejected NGROK_AUTHTOKEN/],
    ['ERR_NGROK_107', 4, 'credentials', /reset or revoked/],
    ['ERR_NGROK_4018', 4, 'credentials', /verified account/],
    ['ERR_NGROK_326', 1, 'tunnel', /refused the domain name\.ngrok-free\.dev/],
    ['ERR_NGROK_108', 1, 'tunnel', /agent sessions/],
    ['ERR_NGROK_334', 1, 'tunnel', /endpoint name\.ngrok-free\.dev is already online/],
    ['ERR_NGROK_9999', 1, 'tunnel', /^ngrok could not open the tunnel: /],
  ])('%s → exit %i', (code, exit, kind, message) => {
    const e = ngrokError(sdkError(`failed to start: Your authtoken: ${TOKEN}\n\nERR_NGROK_x error_code: ${code}`, code), { authtoken: TOKEN, domain: 'name.ngrok-free.dev' });
    expect(e.exitCode).toBe(exit);
    expect(e.code).toBe(kind);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
    expect(`${e.message} ${e.hint}`).not.toContain(TOKEN);
    expect(e.hint).toBeTruthy();
  });

  it('finds the code in the message when the SDK did not set errorCode', () => {
    expect(ngrokError(new Error('authentication failed\n\nERR_NGROK_105')).exitCode).toBe(4);
  });

  it('names ngrok for the offline error, which does not', () => {
    const e = ngrokError(new Error('failed to connect session: failed to establish tcp connection'));
    expect(e.message).toBe('Could not reach ngrok to open the tunnel (failed to connect session: failed to establish tcp connection).');
    expect(e.hint).toMatch(/internet connection.*--no-tunnel/);
    expect(e.exitCode).toBe(1);
  });

  it('masks the token in errors it passes on', () => {
    const e = ngrokError(new Error(`weird failure for ${TOKEN}`), { authtoken: TOKEN });
    expect(e.message).toBe('ngrok could not open the tunnel: weird failure for 2abc…efgh');
  });
});

/** A loopback port nothing listens on (port 1 needs root to bind; nobody does here). */
const CLOSED_LOOPBACK = '127.0.0.1:1';

describe('the real @ngrok/ngrok SDK, offline', () => {
  it('fails by itself without network (not by our open timeout), and the error names ngrok and the fix', async () => {
    const statuses: TunnelStatus[] = [];
    // Our own bound is out of reach (beyond the test's timeout): only the SDK's failure can end this.
    // The agent is pointed at a closed loopback port (server_addr): the SDK's own offline failure,
    // with no traffic leaving this machine.
    const err = (await createNgrokTunnelFactory({ openTimeoutMs: 600_000, serverAddr: CLOSED_LOOPBACK })
      .open({ addr: '127.0.0.1:9', authtoken: TOKEN, onStatus: (s) => statuses.push(s) })
      .catch((e: unknown) => e)) as Error & { exitCode: number; hint: string };
    expect(err.message).toMatch(/^Could not reach ngrok to open the tunnel \(failed to connect session/);
    expect(err.message).not.toContain('no answer from ngrok');
    expect(err.hint).toMatch(/internet connection/);
    expect(err.exitCode).toBe(1);
    expect(err.message).not.toContain(TOKEN);
    expect(statuses).toEqual([]);
  });
});
