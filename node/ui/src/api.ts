// Where the views' data comes from: the live server's JSON endpoints (with the run's
// token) or, in a static export, the answers `data.js` left in `window.WEFT_DATA`,
// keyed by the same request paths. Paths are built here only, in one canonical form
// (parameters in a fixed order), so that both sources agree.

declare global {
  interface Window {
    WEFT_DATA?: Record<string, unknown> | null;
    __weftRendered?: number;
  }
}

/** An answer that is not there: the server's error, or a question left out of an export. */
export class ApiError extends Error {}

let token = "";

/** Reads the run's token from the page's address (kept in memory only). */
export function init(search: string): void {
  token = new URLSearchParams(search).get("token") ?? "";
}

/** Whether the page reads a static export. */
export function isStatic(): boolean {
  return window.WEFT_DATA != null;
}

/** The canonical request path of a chain page. */
export function chainPath(from: number, limit: number, kind?: string): string {
  const base = `/api/chain?from=${from}&limit=${limit}`;
  return kind ? `${base}&kind=${encodeURIComponent(kind)}` : base;
}

/** The canonical request path of a recorded impact report (the newest when seq is absent). */
export function impactPath(seq?: number): string {
  return seq === undefined ? "/api/impact" : `/api/impact?seq=${seq}`;
}

/** The answer to `path`. */
export async function get<T>(path: string): Promise<T> {
  const data = window.WEFT_DATA;
  if (data != null) {
    if (!(path in data)) throw new ApiError(`${path} is not in this export`);
    return data[path] as T;
  }
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "X-Weft-Token": token },
    cache: "no-store",
  });
  const body = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ApiError(`${path}: HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) {
    const message = (parsed as { error?: string }).error ?? `HTTP ${response.status}`;
    throw new ApiError(message);
  }
  return parsed as T;
}
