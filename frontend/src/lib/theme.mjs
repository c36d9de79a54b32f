// Light or dark: the system's setting unless the user chose one with the toggle. The choice is a
// cookie, so the server renders html[data-theme] and no page flashes the other theme first.

export const THEME_COOKIE = 'collab_theme';
const YEAR_SECONDS = 365 * 24 * 3600;

/** The theme the page shows: the chosen one, else the system's. */
export function effectiveTheme(chosen, systemDark) {
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return systemDark ? 'dark' : 'light';
}

/**
 * The choice after a toggle from `shown`: the other theme, or none (follow the system again)
 * when the other theme is what the system asks for anyway.
 */
export function toggledChoice(shown, systemDark) {
  const next = shown === 'dark' ? 'light' : 'dark';
  return next === (systemDark ? 'dark' : 'light') ? null : next;
}

/** Wire a toggle button: aria-pressed says whether the dark theme is on. */
export function setupThemeToggle(button, { root = document.documentElement, media = window.matchMedia('(prefers-color-scheme: dark)') } = {}) {
  const chosen = () => root.dataset.theme || null;
  const render = () => {
    const dark = effectiveTheme(chosen(), media.matches) === 'dark';
    button.setAttribute('aria-pressed', String(dark));
    button.title = dark ? 'Switch to the light theme' : 'Switch to the dark theme';
  };
  button.addEventListener('click', () => {
    const choice = toggledChoice(effectiveTheme(chosen(), media.matches), media.matches);
    if (choice) {
      root.dataset.theme = choice;
      document.cookie = `${THEME_COOKIE}=${choice}; path=/; max-age=${YEAR_SECONDS}; samesite=lax`;
    } else {
      delete root.dataset.theme;
      document.cookie = `${THEME_COOKIE}=; path=/; max-age=0; samesite=lax`;
    }
    render();
  });
  media.addEventListener('change', render);
  render();
}
