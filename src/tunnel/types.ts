/**
 * The tunnel seam: `tunnel up` talks to this interface only, so tests plug in a fake and the
 * real ngrok adapter (src/tunnel/ngrok.ts) stays at the edge.
 */

/** `disconnected`: the provider session dropped (it retries by itself); `connected`: it is back. */
export type TunnelStatus = 'connected' | 'disconnected';

export interface TunnelOpenOptions {
  /** Local address the tunnel forwards to, e.g. `127.0.0.1:4242`. */
  addr: string;
  /** NGROK_AUTHTOKEN, passed explicitly (the SDK neither reads ngrok.yml nor, by default, the env). */
  authtoken: string | undefined;
  /** Fixed domain (--domain / NGROK_DOMAIN), e.g. `name.ngrok-free.dev`. */
  domain?: string | undefined;
  /** Session drops and recoveries after the tunnel is open. */
  onStatus?: ((status: TunnelStatus, detail?: string) => void) | undefined;
}

export interface Tunnel {
  /** Public https URL, no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

export interface TunnelFactory {
  /** Shown in messages, e.g. "ngrok". */
  readonly name: string;
  /** Opens the tunnel, or throws a VoxError whose message and hint say how to fix the cause. */
  open(opts: TunnelOpenOptions): Promise<Tunnel>;
}
