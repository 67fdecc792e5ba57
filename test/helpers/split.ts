// A buffer cut into the chunks a socket could deliver it in: the pieces between sorted points.

/** `data` cut at each of `points` (ascending, each within 0..length): points.length + 1 pieces. */
export function splitAt<T extends Uint8Array>(data: T, points: readonly number[]): T[] {
  const chunks: T[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(data.subarray(from, p) as T);
    from = p;
  }
  chunks.push(data.subarray(from) as T);
  return chunks;
}
