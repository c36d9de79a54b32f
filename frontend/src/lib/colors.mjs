// Stable colours and initials for collaborators: the same user looks the same everywhere.

/** A 32-bit FNV-1a hash of a string. */
export function hashString(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function hslToHex(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const channel = (n) => {
    const k = (n + h / 30) % 12;
    const value = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/** A colour for a user id: dark enough for white text on a name flag, distinct hues. */
export function colorForUser(userId) {
  if (userId === null || userId === undefined || userId === '') return '#5f6368';
  const numeric = /^\d+$/.test(String(userId)) ? Number(userId) : null;
  // Golden-angle steps give consecutive numeric ids clearly different hues; other ids hash.
  const hue = numeric !== null ? Math.round((numeric * 137.508) % 360) : hashString(String(userId)) % 360;
  // Greens and yellows look light at the same HSL lightness: darken until white text reads well.
  let lightness = 0.45;
  let hex = hslToHex(hue, 0.65, lightness);
  while (contrastWithWhite(hex) < 4.5 && lightness > 0.2) {
    lightness -= 0.02;
    hex = hslToHex(hue, 0.65, lightness);
  }
  return hex;
}

/** Someone's colour: the one they chose on their profile ("#rrggbb"), else one from their id. */
export function colorOf(userId, chosen) {
  return typeof chosen === 'string' && /^#[0-9a-f]{6}$/.test(chosen) ? chosen : colorForUser(userId);
}

/** WCAG contrast ratio of a #rrggbb colour against white. */
export function contrastWithWhite(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (luminance + 0.05);
}

/** One or two letters for an avatar. */
export function initialsFor(name) {
  const words = String(name || '').trim().split(/[\s._@-]+/).filter(Boolean);
  if (!words.length) return '?';
  const letters = words.length === 1 ? words[0].slice(0, 2) : words[0][0] + words[words.length - 1][0];
  return letters.toUpperCase();
}
