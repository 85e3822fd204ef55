// A Map used as a small cache: the entry set last goes to the end, and past `max` entries the oldest is
// dropped first. Pure.

export function rememberBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
