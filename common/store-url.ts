/** The SQLite file path of a `sqlite:` store URL, or undefined for another engine. */
export function sqlitePath(storeUrl: string): string | undefined {
  return storeUrl.startsWith('sqlite:') ? storeUrl.slice('sqlite:'.length) : undefined;
}
