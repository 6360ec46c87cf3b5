/**
 * Who may open a WebSocket on this node: authenticated sockets within maxConnections, sockets not
 * yet authenticated within their own bound (so a crowd that never authenticates cannot take the
 * viewers' capacity), and per client address both kinds again. A limit of 0 per address is none
 * (behind a proxy every client has the proxy's address). Loopback peers are exempt from the
 * per-address bounds by default: they are this machine (local tools, a co-located proxy).
 */
export interface AdmissionLimits {
  /** Authenticated sockets. */
  maxConnections: number;
  /** Sockets upgrading or waiting for their auth message. */
  maxUnauthenticated: number;
  /** Sockets of one address, authenticated or not; 0: no bound. */
  maxPerAddress: number;
  /** Sockets of one address not yet authenticated; 0: no bound. */
  maxUnauthenticatedPerAddress: number;
  /** Per-address bounds skip 127.0.0.0/8 and ::1. */
  exemptLoopback: boolean;
}

/**
 * 500 per address leaves room for a viewing party behind one office NAT; 50 unauthenticated per
 * address is more than any such party opens at once (each authenticates within PC_AUTH_TIMEOUT_MS).
 */
export const DEFAULT_ADMISSION: Omit<AdmissionLimits, 'maxConnections'> = {
  maxUnauthenticated: 1_000,
  maxPerAddress: 500,
  maxUnauthenticatedPerAddress: 50,
  exemptLoopback: true,
};

export type AdmissionRefusal = {
  status: 429 | 503;
  /** Metrics label. */
  reason: 'limit' | 'unauthenticated_limit' | 'address_limit' | 'address_unauthenticated_limit';
  message: string;
};

/** One admitted socket's place: authenticate() when its token is accepted, release() when it closes. */
export interface AdmissionTicket {
  /** False when the node's authenticated capacity is full: the socket must go elsewhere. */
  authenticate(): boolean;
  /** Idempotent. */
  release(): void;
}

interface Counts {
  total: number;
  unauthenticated: number;
}

export class ConnectionAdmission {
  readonly #limits: AdmissionLimits;
  readonly #byAddress = new Map<string, Counts>();
  #authenticated = 0;
  #unauthenticated = 0;

  constructor(limits: AdmissionLimits) {
    for (const [key, value] of Object.entries(limits)) {
      if (typeof value === 'number' && (!Number.isInteger(value) || value < 0)) throw new TypeError(`${key} must be an integer >= 0, got ${value}`);
    }
    if (limits.maxConnections < 1 || limits.maxUnauthenticated < 1) throw new TypeError('maxConnections and maxUnauthenticated must be >= 1');
    this.#limits = limits;
  }

  get authenticated(): number {
    return this.#authenticated;
  }

  get unauthenticated(): number {
    return this.#unauthenticated;
  }

  /** Sockets of this address (tests, metrics). */
  countsOf(address: string): Readonly<Counts> {
    return this.#byAddress.get(canonicalAddress(address)) ?? { total: 0, unauthenticated: 0 };
  }

  /** A ticket for a new socket from `address`, or why it is refused. */
  admit(address: string): AdmissionTicket | AdmissionRefusal {
    const key = canonicalAddress(address);
    const counts = this.#byAddress.get(key) ?? { total: 0, unauthenticated: 0 };
    const { maxConnections, maxUnauthenticated } = this.#limits;
    const exempt = this.#limits.exemptLoopback && isLoopback(key);
    const maxPerAddress = exempt ? 0 : this.#limits.maxPerAddress;
    const maxUnauthenticatedPerAddress = exempt ? 0 : this.#limits.maxUnauthenticatedPerAddress;
    if (this.#authenticated >= maxConnections) return { status: 503, reason: 'limit', message: 'connection limit reached on this node' };
    if (this.#unauthenticated >= maxUnauthenticated) return { status: 503, reason: 'unauthenticated_limit', message: 'too many connections waiting to authenticate on this node' };
    if (maxPerAddress > 0 && counts.total >= maxPerAddress) return { status: 429, reason: 'address_limit', message: 'too many connections from your address' };
    if (maxUnauthenticatedPerAddress > 0 && counts.unauthenticated >= maxUnauthenticatedPerAddress) {
      return { status: 429, reason: 'address_unauthenticated_limit', message: 'too many unauthenticated connections from your address' };
    }
    counts.total += 1;
    counts.unauthenticated += 1;
    this.#byAddress.set(key, counts);
    this.#unauthenticated += 1;
    let state: 'unauthenticated' | 'authenticated' | 'released' = 'unauthenticated';
    return {
      authenticate: () => {
        if (state !== 'unauthenticated') return state === 'authenticated';
        if (this.#authenticated >= maxConnections) return false;
        state = 'authenticated';
        counts.unauthenticated -= 1;
        this.#unauthenticated -= 1;
        this.#authenticated += 1;
        return true;
      },
      release: () => {
        if (state === 'released') return;
        if (state === 'unauthenticated') {
          counts.unauthenticated -= 1;
          this.#unauthenticated -= 1;
        } else {
          this.#authenticated -= 1;
        }
        state = 'released';
        counts.total -= 1;
        if (counts.total === 0) this.#byAddress.delete(key);
      },
    };
  }
}

export function isRefusal(a: AdmissionTicket | AdmissionRefusal): a is AdmissionRefusal {
  return 'status' in a;
}

/** One key per client: an IPv4 address reached over IPv6 (::ffff:a.b.c.d) counts as itself. */
function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}
