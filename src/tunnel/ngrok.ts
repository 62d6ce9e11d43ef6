/**
 * The real tunnel: @ngrok/ngrok's in-process agent (no binary, no ngrok.yml). The authtoken is
 * passed explicitly; the SDK's failures become one-line VoxErrors that say what to do — exit 4
 * for credential problems, 1 for everything else.
 */
import { ApiError, AuthError, type VoxError } from '../errors.js';
import { maskSecret } from '../util/mask.js';
import type { Tunnel, TunnelFactory, TunnelOpenOptions } from './types.js';

/** The slice of the SDK voxctl uses (typed here so tests can hand in a stand-in). */
export interface NgrokSdk {
  forward(config: Record<string, unknown>): Promise<NgrokListener>;
}
export interface NgrokListener {
  url(): string | null;
  close(): Promise<void>;
}

export interface NgrokFactoryOptions {
  /** Loads the SDK (default: `import('@ngrok/ngrok')`). */
  loadSdk?: () => Promise<NgrokSdk>;
  /** The SDK can hang for a long time before failing (ngrok-javascript#159). Default 30 s. */
  openTimeoutMs?: number;
  /**
   * Where the agent connects (ngrok's `server_addr`; default ngrok's own service). Set from
   * VOXCTL_NGROK_SERVER_ADDR: a private ngrok server, or a closed loopback port in tests, which
   * gives the real SDK's offline failure without reaching the internet.
   */
  serverAddr?: string | undefined;
}

const TOKEN_URL = 'https://dashboard.ngrok.com/get-started/your-authtoken';
const NO_TUNNEL = 'or run `voxctl tunnel up --no-tunnel` to serve on localhost only';

async function loadNgrok(): Promise<NgrokSdk> {
  const mod = (await import('@ngrok/ngrok')) as unknown as NgrokSdk & { default?: NgrokSdk };
  return mod.default && typeof mod.default.forward === 'function' ? mod.default : mod;
}

/** One line, the token masked, at most 300 characters. */
function cleanMessage(message: string, authtoken: string | undefined): string {
  let m = message.replace(/\s+/g, ' ').trim();
  if (authtoken) m = m.split(authtoken).join(maskSecret(authtoken));
  return m.length > 300 ? `${m.slice(0, 299)}…` : m;
}

/**
 * Turns an SDK failure into a VoxError with a fix. Known codes get their own message and never
 * echo ngrok's text (which may quote the token); unknown ones are passed on, token masked.
 */
export function ngrokError(e: unknown, opts: { authtoken?: string | undefined; domain?: string | undefined } = {}): VoxError {
  const raw = e instanceof Error ? e.message : String(e);
  const codeProp = (e as { errorCode?: unknown } | null)?.errorCode;
  const code = typeof codeProp === 'string' ? codeProp : /ERR_NGROK_\d+/.exec(raw)?.[0];
  const details = { provider: 'ngrok', ngrokCode: code ?? null };
  const domain = opts.domain ?? 'that domain';
  switch (code) {
    case 'ERR_NGROK_105':
    case 'ERR_NGROK_106':
    case 'ERR_NGROK_107':
    case 'ERR_NGROK_300':
      return new AuthError(`ngrok rejected NGROK_AUTHTOKEN (${code}): it is not a valid authtoken, or it was reset or revoked.`, {
        hint: `Copy your authtoken again from ${TOKEN_URL} into .env.local as NGROK_AUTHTOKEN=… (the agent authtoken, not an API key).`,
        details,
        cause: e,
      });
    case 'ERR_NGROK_4018':
      return new AuthError('ngrok needs a verified account and its authtoken (ERR_NGROK_4018).', {
        hint: `Sign up at https://dashboard.ngrok.com/signup, then put the token from ${TOKEN_URL} in .env.local as NGROK_AUTHTOKEN=…`,
        details,
        cause: e,
      });
    case 'ERR_NGROK_326':
      return new ApiError(`ngrok refused the domain ${domain} (ERR_NGROK_326): your account may not use it.`, {
        code: 'tunnel',
        hint: 'Use the domain listed at https://dashboard.ngrok.com/domains in --domain or NGROK_DOMAIN, or leave both unset for a random URL.',
        details,
        cause: e,
      });
    case 'ERR_NGROK_108':
      return new ApiError('Your ngrok account allows fewer agent sessions than are running (ERR_NGROK_108).', {
        code: 'tunnel',
        hint: 'Stop the other ngrok agent or `voxctl tunnel up` (see https://dashboard.ngrok.com/agents), then try again.',
        details,
        cause: e,
      });
    case 'ERR_NGROK_334':
      return new ApiError(`The ngrok endpoint ${domain} is already online (ERR_NGROK_334).`, {
        code: 'tunnel',
        hint: 'Another `voxctl tunnel up` or ngrok agent is serving it: stop that one (after a crash, wait a minute), or use another --domain.',
        details,
        cause: e,
      });
    default:
      break;
  }
  if (/failed to connect session|failed to establish tcp connection|dns|connection refused|timed out|network/i.test(raw) && !code) {
    // The SDK's offline error never mentions ngrok: say who could not be reached.
    return new ApiError(`Could not reach ngrok to open the tunnel (${cleanMessage(raw, opts.authtoken)}).`, {
      code: 'tunnel',
      hint: `Check your internet connection, proxy or firewall (the agent needs outbound TCP 443 to connect.ngrok-agent.com), then try again; ${NO_TUNNEL}.`,
      details,
      cause: e,
    });
  }
  return new ApiError(`ngrok could not open the tunnel: ${cleanMessage(raw, opts.authtoken)}`, {
    code: 'tunnel',
    hint: code ? `See https://ngrok.com/docs/errors/${code.toLowerCase()}; ${NO_TUNNEL}.` : `Re-run with --debug for details; ${NO_TUNNEL}.`,
    details,
    cause: e,
  });
}

/** No NGROK_AUTHTOKEN: exit 4 with where to get one. */
export function missingTokenError(): AuthError {
  return new AuthError('NGROK_AUTHTOKEN is not set, so ngrok cannot open a tunnel.', {
    hint: `Put NGROK_AUTHTOKEN=<token> in .env.local (copy it from ${TOKEN_URL}), ${NO_TUNNEL}.`,
    details: { provider: 'ngrok', ngrokCode: null },
  });
}

/** The ngrok adapter behind the TunnelFactory interface. */
export function createNgrokTunnelFactory(options: NgrokFactoryOptions = {}): TunnelFactory {
  const loadSdk = options.loadSdk ?? loadNgrok;
  const openTimeoutMs = options.openTimeoutMs ?? 30_000;
  return {
    name: 'ngrok',
    async open(opts: TunnelOpenOptions): Promise<Tunnel> {
      if (!opts.authtoken) throw missingTokenError();
      let sdk: NgrokSdk;
      try {
        sdk = await loadSdk();
      } catch (e) {
        throw new ApiError(`The ngrok SDK could not be loaded: ${(e as Error).message}`, {
          code: 'tunnel',
          hint: `Reinstall dependencies (npm install) on a supported platform, ${NO_TUNNEL}.`,
          cause: e,
        });
      }
      let open = false;
      let closed = false;
      const config: Record<string, unknown> = {
        addr: opts.addr,
        proto: 'http',
        authtoken: opts.authtoken,
        authtoken_from_env: false,
        session_metadata: 'voxctl tunnel up',
        onStatusChange: (status: string) => {
          // The SDK also reports the failed first attempt; only changes of an open tunnel count.
          if (!open || closed) return;
          if (status === 'closed') opts.onStatus?.('disconnected', 'ngrok session closed; the agent is reconnecting');
          else if (status === 'connected') opts.onStatus?.('connected');
        },
      };
      if (opts.domain) config.domain = opts.domain;
      if (options.serverAddr) config.server_addr = options.serverAddr;

      let timer: NodeJS.Timeout | undefined;
      const forwarding = sdk.forward(config);
      let listener: NgrokListener;
      try {
        listener = await Promise.race([
          forwarding,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`failed to connect session: no answer from ngrok within ${Math.round(openTimeoutMs / 1000)} s (timed out)`)),
              openTimeoutMs,
            );
          }),
        ]);
      } catch (e) {
        // A late success after our timeout must not leave a tunnel open.
        forwarding.then((l) => l.close()).catch(() => {});
        throw ngrokError(e, { authtoken: opts.authtoken, domain: opts.domain });
      } finally {
        clearTimeout(timer);
      }
      const url = listener.url();
      if (!url) {
        await listener.close().catch(() => {});
        throw new ApiError('ngrok opened a session but gave no public URL.', { code: 'tunnel', hint: `Try again; ${NO_TUNNEL}.` });
      }
      open = true;
      return {
        url: url.replace(/\/+$/, ''),
        async close() {
          if (closed) return;
          closed = true;
          await listener.close().catch(() => {});
        },
      };
    },
  };
}
