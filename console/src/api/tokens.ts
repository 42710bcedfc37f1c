// Where the signed-in session's tokens live: sessionStorage, so a closed tab signs out.

export interface Tokens {
  access: string;
  refresh?: string;
}

const KEY = 'pa.console.tokens';

export function loadTokens(): Tokens | null {
  const text = sessionStorage.getItem(KEY);
  if (!text) return null;
  try {
    const parsed = JSON.parse(text) as Tokens;
    return typeof parsed.access === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

export function saveTokens(tokens: Tokens): void {
  sessionStorage.setItem(KEY, JSON.stringify(tokens));
}

export function clearTokens(): void {
  sessionStorage.removeItem(KEY);
}
