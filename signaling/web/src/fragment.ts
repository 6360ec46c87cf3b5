/**
 * The page's parameters live in the URL fragment (#token=...&session=...): browsers never send a
 * fragment to a server, so the token stays out of access logs and Referer headers (seed I-1). Once
 * read, the token is moved to sessionStorage (it survives a reload of this tab, and nothing else)
 * and wiped from the address bar, where a screen share would show it.
 */
export function readFragment(storageKey: string): { token: string | undefined; session: string | undefined } {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = params.get('token') ?? undefined;
  if (fromUrl) sessionStorage.setItem(storageKey, fromUrl);
  if (params.has('token')) {
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `#${rest}` : ''}`);
  }
  return { token: fromUrl ?? sessionStorage.getItem(storageKey) ?? undefined, session: params.get('session') ?? undefined };
}

/** ws(s)://<this host>/ws */
export function signalingUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

export function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page is missing #${id}`);
  return el;
}
