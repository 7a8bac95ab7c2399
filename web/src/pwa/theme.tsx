/* Light and dark themes (issue 17): the system's choice
 * (prefers-color-scheme) unless the user picked one, remembered in this
 * browser. The choice is data-theme on <html>; styles.css has the colours. */

import { useState } from 'react';
import { useI18n, type MessageKey } from '../i18n';

export type ThemeChoice = 'auto' | 'light' | 'dark';
const KEY = 'peerdrop.theme';
const NEXT: Record<ThemeChoice, ThemeChoice> = { auto: 'light', light: 'dark', dark: 'auto' };
const LABEL: Record<ThemeChoice, MessageKey> = { auto: 'theme.auto', light: 'theme.light', dark: 'theme.dark' };
const NAME: Record<ThemeChoice, MessageKey> = { auto: 'theme.name.auto', light: 'theme.name.light', dark: 'theme.name.dark' };

export function readTheme(): ThemeChoice {
  try {
    const v = globalThis.localStorage?.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'auto';
  } catch {
    return 'auto'; // storage blocked
  }
}

/** Puts the choice on <html>; called before the first render too. */
export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'auto') delete root.dataset.theme;
  else root.dataset.theme = choice;
}

function saveTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'auto') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // storage blocked: this page keeps it
  }
}

/** A button that goes automatic → light → dark. */
export function ThemeSwitch() {
  const { t } = useI18n();
  const [choice, setChoice] = useState(readTheme);
  const next = () => {
    const c = NEXT[choice];
    setChoice(c);
    applyTheme(c);
    saveTheme(c);
  };
  return (
    <button type="button" className="secondary theme-switch" onClick={next} data-testid="theme" data-theme-choice={choice} title={t('theme.title', { now: t(LABEL[choice]), next: t(NAME[NEXT[choice]]) })}>
      <span aria-hidden="true">{choice === 'dark' ? '☾' : choice === 'light' ? '☀' : '◐'}</span>
      <span className="sr-only">{t(LABEL[choice])}</span>
    </button>
  );
}
