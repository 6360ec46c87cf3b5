import { createHash } from 'node:crypto';

/**
 * How a token's identity maps onto rows. `org` is the organization's id itself (a UUID). `sub` is
 * whatever the identity provider uses (often not a UUID), so a user's id is a name-based UUID
 * (RFC 9562 version 5) of (org, sub): the same token always lands on the same row, on any node,
 * with no lookup table.
 */

/** Fixed namespace for user ids (a random UUID chosen once; never change it). */
const USER_NAMESPACE = 'a4b8f0e2-6c1d-4f3a-9b57-2d0e8c61f4a9';

export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new TypeError(`namespace must be a UUID, got ${namespace}`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The users.id for a token's (org, sub). */
export function userIdFor(org: string, sub: string): string {
  return uuidV5(USER_NAMESPACE, `${org.toLowerCase()}\n${sub}`);
}

/**
 * The users.email for a user first seen through a token: the column is required and unique per
 * organization, and tokens carry no verified address. `.invalid` is reserved (RFC 2606), so it can
 * never be mistaken for, or collide with, a real one.
 */
export function placeholderEmailFor(userId: string): string {
  return `${userId}@users.invalid`;
}
