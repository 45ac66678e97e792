import type { LookupFunction } from 'node:net';
import type { Secret } from '../secret';

/** One Dolibarr instance as the harness reaches it. */
export interface DolibarrSite {
  /** Its host by the naming rule, e.g. `erp-sandbox.arcodange.lab`. */
  readonly host: string;
  /** The URL its clients are configured with, e.g. `https://erp-sandbox.arcodange.lab`. */
  readonly url: string;
}

/** What the hermetic stand-ins let a gate observe and break; a live target has none of it. */
export interface DolibarrStandins {
  /** Connections and requests each stand-in has accepted so far. */
  counts(): { readonly prod: StandinCounts; readonly sandbox: StandinCounts };
  /** The loopback address each host name resolves to. */
  readonly addresses: { readonly prod: string; readonly sandbox: string };
  /** Fault: the sandbox answers every request with a redirect to `location` (undefined: stop). */
  redirectSandboxTo(location: string | undefined): void;
  /**
   * Fault: the sandbox's Dolibarr loses its database (its login's Vault lease revoked) and answers its technical-error
   * page; the function it resolves to gives it a new login.
   */
  loseSandboxDatabase(): Promise<() => Promise<void>>;
  /** The sandbox overlay as SQL, for an operator-style post-reset command (the live emulation uses it). */
  overlaySql(): string;
}

export interface StandinCounts {
  readonly connections: number;
  readonly requests: number;
}

/** How a target's two Dolibarr instances are reached, and with which keys. */
export interface DolibarrSites {
  readonly sandbox: DolibarrSite;
  readonly prod: DolibarrSite;
  /** The port both are served on besides 443 (the host-guard's configured port). */
  readonly port: number;
  /** The CA their TLS certificates chain to (homelab CA live, per-run CA hermetic). */
  readonly ca: string;
  /** Name resolution for their hosts (hermetic: the real names to the loopback stand-ins). */
  readonly lookup?: LookupFunction;
  readonly keys: {
    /** The agent's key on the sandbox, valid there only after the overlay. */
    readonly sandboxAgent: Secret;
    /** The agent's read-only key on prod: a real prod key without write rights (hermetic only: the live target holds no prod key). */
    readonly prodAgent?: Secret;
  };
  /**
   * The post-restore overlay (ADR-0003, facts on Dolibarr keys): the agent's own sandbox key and its sandbox
   * rights, applied as rows after a reset. A reset brings the golden back without it.
   */
  applySandboxOverlay(): Promise<void>;
  readonly standins?: DolibarrStandins;
}
