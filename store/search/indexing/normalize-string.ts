/** Search form of a string: accents stripped (NFD, marks removed), case folded, spaces collapsed. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}
