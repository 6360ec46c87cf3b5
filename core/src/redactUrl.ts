/** `url` with its password replaced by `***`, for logs and messages; a value that is no URL is hidden whole. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(not a URL, hidden)';
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
