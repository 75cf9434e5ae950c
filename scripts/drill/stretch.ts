/**
 * Longest stretch (ms) of polls in which `holds` is true: from the first such poll to the first
 * later poll where it is not (or the last poll). Polls before `fromMs` are ignored.
 */
export function longestStretchMs<T extends { at: number }>(
  polls: readonly T[],
  holds: (poll: T) => boolean,
  fromMs = -Infinity,
): number {
  let longest = 0;
  let since: number | null = null;
  for (const p of polls) {
    if (p.at < fromMs) continue;
    if (holds(p)) since ??= p.at;
    else if (since !== null) {
      longest = Math.max(longest, p.at - since);
      since = null;
    }
  }
  const last = polls[polls.length - 1];
  if (since !== null && last) longest = Math.max(longest, last.at - since);
  return longest;
}
